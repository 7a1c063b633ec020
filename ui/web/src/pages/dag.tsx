// A dag's graph: SVG (dagre) when small, a canvas with its own layered
// layout when large, and a summary when the server only lists part of it.
import { useEffect, useMemo, useRef } from "preact/hooks";
import { getGraph, type Graph, type GraphNode } from "../api";
import { Badge, ErrorText, Loading } from "../components";
import { DagCanvas, STATUS_INDEX } from "../dagcanvas";
import { dagreLayout, DagSvg, fastLayout } from "../dagsvg";
import { usePoll } from "../hooks";
import { edgesOf, layered } from "../layout";
import { go } from "../routes";
import { colour, isFinal, orderOf } from "../status";

const MAX = 20000;
const SVG_LIMIT = 1500;
/** Above this dagre takes seconds: the SVG uses the fast layered layout instead. */
const DAGRE_LIMIT = 250;

declare global {
  interface Window {
    __plexusDag?: { mode: "svg" | "canvas" | "summary"; nodes: number; statuses: Record<string, string> };
  }
}

function countsOf(g: Graph): Record<string, number> {
  if (g.summary?.counts) return g.summary.counts;
  const c: Record<string, number> = {};
  for (const n of g.nodes ?? []) c[n.status || "waiting"] = (c[n.status || "waiting"] ?? 0) + 1;
  return c;
}

/** rendered marks the first complete draw once it is on screen. */
function rendered(el: HTMLElement | null, mark: string) {
  if (!el || el.getAttribute("data-rendered") === "true") return;
  requestAnimationFrame(() =>
    setTimeout(() => {
      if (el.getAttribute("data-rendered") === "true") return;
      performance.mark(mark);
      el.setAttribute("data-rendered", "true");
    }, 0),
  );
}

export function DagPage({ uuid }: { uuid: string }) {
  const poll = usePoll<Graph>((signal) => getGraph(uuid, MAX, signal), [uuid], 2000, (g) => !isFinal(g.run?.status));
  const g = poll.data;
  if (!g) return <div class="page">{poll.error ? <ErrorText error={poll.error} /> : <Loading what="the graph" />}</div>;
  const run = g.run;
  const nodes = g.nodes ?? [];
  const counts = countsOf(g);
  const total = g.summary?.total ?? nodes.length;
  return (
    <div class="page dag-page">
      <div class="page-head">
        <h1>
          <a href={`#/runs/${run.uuid}`}>{run.name || run.uuid}</a> <span class="kind">graph</span>
        </h1>
        <Badge status={run.status} testid="run-status" />
        <span class="muted">{total.toLocaleString()} operations</span>
        {g.matrix && <a href={`#/sweep/${run.uuid}`}>sweep view →</a>}
        {g.schedule && <a href={`#/schedule/${run.uuid}`}>schedule view →</a>}
      </div>
      <ErrorText error={poll.error} />
      <Counts counts={counts} total={total} />
      {g.truncated ? <Summary g={g} counts={counts} total={total} /> : <Drawing nodes={nodes} />}
    </div>
  );
}

function Counts({ counts, total }: { counts: Record<string, number>; total: number }) {
  const keys = Object.keys(counts).filter((k) => counts[k] > 0).sort((a, b) => orderOf(a) - orderOf(b));
  return (
    <div class="legend" data-testid="dag-counts">
      {keys.map((k) => (
        <span key={k} class="legend-item" data-count={k}>
          <i style={{ background: colour(k) }} />
          {k} <b>{counts[k].toLocaleString()}</b>
          <span class="muted small"> {total ? ((100 * counts[k]) / total).toFixed(counts[k] * 1000 < total ? 1 : 0) : 0}%</span>
        </span>
      ))}
    </div>
  );
}

function Summary({ g, counts, total }: { g: Graph; counts: Record<string, number>; total: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const listed = useMemo(() => [...(g.nodes ?? [])].sort((a, b) => orderOf(a.status || "waiting") - orderOf(b.status || "waiting")), [g]);
  const keys = Object.keys(counts).filter((k) => counts[k] > 0).sort((a, b) => orderOf(a) - orderOf(b));
  useEffect(() => {
    const statuses: Record<string, string> = {};
    for (const n of listed) statuses[n.name] = n.status || "waiting";
    window.__plexusDag = { mode: "summary", nodes: total, statuses };
    rendered(ref.current, "plexus:summary-rendered");
  }, [g]);
  return (
    <div class="card summary" data-testid="dag-summary" ref={ref}>
      <p>
        This dag has <b data-testid="dag-total">{total.toLocaleString()}</b> operations: too many to draw. The counts by status:
      </p>
      <div class="counts-grid">
        {keys.map((k) => (
          <div key={k} class="count-cell" data-count={k}>
            <Badge status={k} /> <b>{counts[k].toLocaleString()}</b>
          </div>
        ))}
      </div>
      <div class="bar" data-testid="dag-bar">
        {keys.map((k) => (
          <span key={k} title={`${k}: ${counts[k]}`} style={{ background: colour(k), width: `${(100 * counts[k]) / Math.max(total, 1)}%` }} />
        ))}
      </div>
      <h3>Operations listed ({listed.length}: failed first, then running)</h3>
      <table class="grid compact" data-testid="dag-listed">
        <thead><tr><th>Operation</th><th>Status</th><th>Upstream</th><th>Run</th></tr></thead>
        <tbody>
          {listed.map((n) => (
            <tr key={n.name} data-node={n.name}>
              <td>{n.name}</td>
              <td><Badge status={n.status} /></td>
              <td class="muted small">{(n.upstream ?? []).slice(0, 3).join(", ")}{(n.upstream?.length ?? 0) > 3 ? ` +${n.upstream!.length - 3}` : ""}</td>
              <td>{n.run ? <a class="mono" href={`#/runs/${n.run}`}>{n.run.slice(0, 12)}</a> : <span class="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Drawing lays the dag out only when its node set changes; a poll only recolours it. */
function Drawing({ nodes }: { nodes: GraphNode[] }) {
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<DagCanvas | null>(null);
  const mode = nodes.length <= SVG_LIMIT ? "svg" : "canvas";
  const shape = useMemo(() => nodes.length + "\u0000" + nodes.map((n) => n.name).join("\u0001"), [nodes]);
  const names = useMemo(() => nodes.map((n) => n.name), [shape]);
  const svgLayout = useMemo(
    () => (mode === "svg" ? (nodes.length <= DAGRE_LIMIT ? dagreLayout : fastLayout)(names, nodes.map((n) => n.upstream)) : null),
    [shape],
  );
  const runs = nodes.map((n) => n.run);
  const pick = (i: number) => {
    const r = runs[i];
    if (r) go(`#/runs/${r}`);
  };
  const pickRef = useRef(pick);
  pickRef.current = pick;

  // Canvas mode: build on a new shape, recolour otherwise.
  useEffect(() => {
    if (mode !== "canvas") return;
    const edges = edgesOf(names, nodes.map((n) => n.upstream));
    const lay = layered(names.length, edges);
    const c = new DagCanvas(box.current!, lay, edges, names, statusArray(nodes), (i) => pickRef.current(i));
    canvas.current = c;
    c.draw();
    rendered(box.current, "plexus:dag-rendered");
    return () => {
      c.destroy();
      canvas.current = null;
    };
  }, [shape]);
  useEffect(() => {
    if (mode === "canvas") canvas.current?.setStatuses(statusArray(nodes));
    const statuses: Record<string, string> = {};
    for (const n of nodes) statuses[n.name] = n.status || "waiting";
    window.__plexusDag = { mode, nodes: nodes.length, statuses };
    if (mode === "svg") rendered(box.current, "plexus:dag-rendered");
  }, [nodes]);

  return (
    <div class="dag-wrap">
      {mode === "canvas" && (
        <div class="dag-tools">
          <button type="button" onClick={() => canvas.current?.zoom(1.4)}>+</button>
          <button type="button" onClick={() => canvas.current?.zoom(1 / 1.4)}>−</button>
          <button type="button" onClick={() => canvas.current?.fit()}>Fit</button>
          <span class="muted small">drag to pan, wheel to zoom, click an operation to open its run</span>
        </div>
      )}
      <div class={`dag ${mode}`} data-testid="dag" data-mode={mode} ref={box}>
        {mode === "svg" && svgLayout && (
          <DagSvg layout={svgLayout} names={names} statuses={nodes.map((n) => n.status)} runs={runs} onPick={pick} />
        )}
      </div>
    </div>
  );
}

function statusArray(nodes: GraphNode[]): Uint8Array {
  const a = new Uint8Array(nodes.length);
  const waiting = STATUS_INDEX.get("waiting")!;
  for (let i = 0; i < nodes.length; i++) {
    const s = nodes[i].status;
    a[i] = s ? STATUS_INDEX.get(s) ?? waiting : waiting;
  }
  return a;
}
