// Hash routing: #/runs?x=y, #/runs/UUID, #/dag/UUID, #/sweep/UUID, #/schedule/UUID.
import { useEffect, useState } from "preact/hooks";

export interface Route {
  page: "runs" | "run" | "dag" | "sweep" | "schedule" | "notfound";
  id?: string;
  query: URLSearchParams;
}

export function parse(hash: string): Route {
  const h = hash.replace(/^#/, "");
  const q = h.indexOf("?");
  const path = (q < 0 ? h : h.slice(0, q)).split("/").filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(q < 0 ? "" : h.slice(q + 1));
  if (path.length === 0 || (path.length === 1 && path[0] === "runs")) return { page: "runs", query };
  if (path.length === 2) {
    const [p, id] = path;
    if (p === "runs") return { page: "run", id, query };
    if (p === "dag" || p === "sweep" || p === "schedule") return { page: p, id, query };
  }
  return { page: "notfound", query };
}

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const f = () => setHash(location.hash);
    addEventListener("hashchange", f);
    return () => removeEventListener("hashchange", f);
  }, []);
  return parse(hash);
}

export function go(hash: string) {
  if (location.hash !== hash) location.hash = hash;
}

/** withQuery builds #/path?query from the set values. */
export function withQuery(path: string, q: Record<string, string | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}
