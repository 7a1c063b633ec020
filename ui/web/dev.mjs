// A development server: serves ../dist at / and forwards /api/* to a real
// engine (PLEXUS_API, default http://127.0.0.1:8000), so a change to the
// page is tried without rebuilding plexus. It answers what an older engine
// lacks (whoami, graph's `max` and `summary`), and serves synthetic graphs
// at /api/v1/runs/syntheticN/graph (N nodes, layers of 100).
// DEV_TOKEN=x makes every API call need "Bearer x".
//   node dev.mjs            # listens on 127.0.0.1:PORT (default 8090)
import { createServer, request } from "node:http";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "dist");
const api = new URL(process.env.PLEXUS_API || "http://127.0.0.1:8000");
const port = Number(process.env.PORT || 8090);
const devToken = process.env.DEV_TOKEN || "";
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css" };

const STATUSES = ["succeeded", "succeeded", "succeeded", "running", "failed", "queued", "upstream_failed", "skipped"];

function synthetic(n, max, final) {
  const width = 100;
  const nodes = [];
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / width);
    const upstream = [];
    if (layer > 0) {
      const k = 1 + Math.floor(rnd() * 3);
      for (let j = 0; j < k; j++) {
        const u = (layer - 1) * width + Math.floor(rnd() * width);
        const name = `op-${u}`;
        if (!upstream.includes(name)) upstream.push(name);
      }
    }
    const node = { name: `op-${i}`, upstream };
    const r = rnd();
    if (layer < (n / width) * 0.6 || final) {
      node.status = STATUSES[Math.floor(r * STATUSES.length)];
      node.run = `run${i}`;
    }
    nodes.push(node);
  }
  const run = { uuid: "synthetic" + (n % 1000 ? n : n / 1000 + "k") + (final ? "final" : ""), name: `synthetic ${n}`, status: final ? "failed" : "running", project: "default", attempt: 1, spec: "", compiled: { component: { run: { kind: "dag" } } }, createdAt: new Date(Date.now() - 60000).toISOString(), updatedAt: new Date().toISOString() };
  return finish({ run, nodes }, max);
}

/** finish adds `summary` and applies `max` the way the engine will. */
function finish(g, max) {
  if (!g.nodes || g.summary) return g;
  const counts = {};
  for (const n of g.nodes) counts[n.status || "waiting"] = (counts[n.status || "waiting"] || 0) + 1;
  g.summary = { total: g.nodes.length, counts };
  if (max > 0 && g.nodes.length > max) {
    const rank = (n) => (n.status === "failed" || n.status === "upstream_failed" ? 0 : n.status === "running" ? 1 : 2);
    g.nodes = [...g.nodes].sort((a, b) => rank(a) - rank(b)).slice(0, 100);
    g.truncated = true;
  }
  return g;
}

function send(res, code, body, type = "application/json") {
  res.writeHead(code, { "Content-Type": type, "Cache-Control": "no-store" });
  res.end(typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

function forward(req, res, path, rewrite) {
  const headers = { ...req.headers, host: api.host };
  if (devToken) delete headers.authorization;
  const up = request({ hostname: api.hostname, port: api.port, path, method: req.method, headers }, (r) => {
    if (!rewrite || r.statusCode !== 200) {
      if (rewrite?.on404 && r.statusCode === 404) return rewrite.on404(r);
      res.writeHead(r.statusCode, r.headers);
      return r.pipe(res);
    }
    const chunks = [];
    r.on("data", (c) => chunks.push(c));
    r.on("end", () => send(res, 200, rewrite.body(JSON.parse(Buffer.concat(chunks).toString()))));
  });
  up.on("error", (e) => send(res, 502, { error: `the engine at ${api.host} cannot be reached: ${e.message}` }));
  req.pipe(up);
}

createServer((req, res) => {
  const url = new URL(req.url, "http://dev");
  const p = url.pathname;
  if (!p.startsWith("/api/")) {
    const file = p === "/" ? "index.html" : p.slice(1);
    try {
      return send(res, 200, readFileSync(join(dist, file.replace(/\.\./g, ""))), types[file.slice(file.lastIndexOf("."))] || "application/octet-stream");
    } catch {
      return send(res, 404, "not found", "text/plain");
    }
  }
  if (devToken && req.headers.authorization !== `Bearer ${devToken}`) return send(res, 401, { error: "a valid bearer token is required" });
  if (p === "/api/v1/whoami") {
    if (devToken) return send(res, 200, { user: "dev", role: process.env.DEV_ROLE || "admin", projects: ["*"], open: false });
    return forward(req, res, req.url, { body: (b) => b, on404: (r) => { r.resume(); send(res, 200, { open: true, role: "admin" }); } });
  }
  const syn = p.match(/^\/api\/v1\/runs\/synthetic(\d+k?)(final)?(\/graph)?$/);
  if (syn) {
    const g = synthetic(parseInt(syn[1]) * (syn[1].endsWith("k") ? 1000 : 1), Number(url.searchParams.get("max") || 0), !!syn[2]);
    return send(res, 200, syn[3] ? g : g.run);
  }
  if (/^\/api\/v1\/runs\/[^/]+\/graph$/.test(p)) {
    const max = Number(url.searchParams.get("max") || 0);
    return forward(req, res, req.url, { body: (g) => finish(g, max) });
  }
  forward(req, res, req.url);
}).listen(port, "127.0.0.1", () => console.log(`dev server on 127.0.0.1:${port}, engine at ${api.href}`));
