// A small dag laid out by dagre and drawn as SVG, with pan and zoom.
import dagre from "@dagrejs/dagre";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { edgesOf, layered, NODE_H, NODE_W } from "./layout";
import { colour, textColour } from "./status";

export interface SvgLayout {
  nodes: { x: number; y: number }[];
  edges: { from: number; to: number; points: { x: number; y: number }[] }[];
  width: number;
  height: number;
  /** The size of a node's box. */
  w: number;
  h: number;
}

const W = 160, H = 34;

/** fastLayout is the large-dag layout (layout.ts) in SVG terms, for dags dagre would take seconds over. */
export function fastLayout(names: string[], upstreams: (string[] | undefined)[]): SvgLayout {
  const e = edgesOf(names, upstreams);
  const lay = layered(names.length, e);
  const nodes = names.map((_, i) => ({ x: lay.x[i], y: lay.y[i] }));
  const edges: SvgLayout["edges"] = [];
  for (let v = 0; v < names.length; v++)
    for (let k = e.upStart[v]; k < e.upStart[v + 1]; k++) {
      const u = e.upList[k];
      edges.push({ from: u, to: v, points: [{ x: lay.x[u] + NODE_W / 2, y: lay.y[u] + NODE_H }, { x: lay.x[v] + NODE_W / 2, y: lay.y[v] }] });
    }
  return { nodes, edges, width: lay.width, height: lay.height, w: NODE_W, h: NODE_H };
}

export function dagreLayout(names: string[], upstreams: (string[] | undefined)[]): SvgLayout {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: "TB", nodesep: 18, ranksep: 44, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  const index = new Map<string, number>();
  names.forEach((n, i) => {
    index.set(n, i);
    g.setNode(String(i), { width: W, height: H });
  });
  names.forEach((_, i) => {
    for (const u of upstreams[i] ?? []) {
      const j = index.get(u);
      if (j !== undefined && j !== i) g.setEdge(String(j), String(i));
    }
  });
  dagre.layout(g);
  const nodes = names.map((_, i) => {
    const n = g.node(String(i));
    return { x: n.x - W / 2, y: n.y - H / 2 };
  });
  const edges = g.edges().map((e) => ({ from: Number(e.v), to: Number(e.w), points: (g.edge(e).points ?? []) as { x: number; y: number }[] }));
  const gr = g.graph();
  return { nodes, edges, width: gr.width ?? 0, height: gr.height ?? 0, w: W, h: H };
}

export function DagSvg({ layout, names, statuses, runs, onPick }: {
  layout: SvgLayout;
  names: string[];
  statuses: (string | undefined)[];
  runs: (string | undefined)[];
  onPick: (i: number) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState<[number, number, number, number] | null>(null);
  // The node pressed is remembered at pointerdown: once the box captures
  // the pointer, pointerup's target is the box.
  const drag = useRef<{ x: number; y: number; v: [number, number, number, number]; moved: boolean; on: Element | null } | null>(null);

  useLayoutEffect(() => {
    // The whole graph fits when it is larger than the box, at 1:1 otherwise.
    const r = box.current!.getBoundingClientRect();
    const k = Math.max(layout.width / r.width, layout.height / r.height, 1);
    const w = r.width * k, h = r.height * k;
    setView([-(w - layout.width) / 2, 0, w, h]);
  }, [layout]);

  // The view keeps the box's aspect ratio; zoom around the pointer.
  useEffect(() => {
    const el = box.current!;
    const wheel = (e: WheelEvent) => {
      e.preventDefault();
      setView((v) => {
        if (!v) return v;
        const r = el.getBoundingClientRect();
        const f = Math.exp(e.deltaY * 0.0015);
        const px = v[0] + ((e.clientX - r.left) / r.width) * v[2];
        const py = v[1] + ((e.clientY - r.top) / r.height) * v[3];
        const w = Math.min(Math.max(v[2] * f, 100), 50 * Math.max(layout.width, r.width));
        const h = (w * v[3]) / v[2];
        return [px - ((px - v[0]) * w) / v[2], py - ((py - v[1]) * h) / v[3], w, h];
      });
    };
    el.addEventListener("wheel", wheel, { passive: false });
    return () => el.removeEventListener("wheel", wheel);
  }, [layout]);

  const paths = useMemo(
    () => layout.edges.map((e) => "M" + e.points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join("L")).join(""),
    [layout],
  );

  const down = (e: PointerEvent) => {
    if (!view) return;
    (e.currentTarget as Element).setPointerCapture(e.pointerId);
    drag.current = { x: e.clientX, y: e.clientY, v: view, moved: false, on: (e.target as Element).closest("[data-index]") };
  };
  const move = (e: PointerEvent) => {
    const d = drag.current;
    if (!d) return;
    const dx = e.clientX - d.x, dy = e.clientY - d.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) d.moved = true;
    if (!d.moved) return;
    const r = box.current!.getBoundingClientRect();
    const k = d.v[2] / r.width;
    setView([d.v[0] - dx * k, d.v[1] - dy * k, d.v[2], d.v[3]]);
  };
  const up = () => {
    const d = drag.current;
    drag.current = null;
    if (d && !d.moved && d.on) onPick(Number(d.on.getAttribute("data-index")));
  };

  return (
    <div class="dag-svg" ref={box} onPointerDown={down} onPointerMove={move} onPointerUp={up}>
      {view && (
        <svg width="100%" height="100%" viewBox={view.join(" ")} preserveAspectRatio="xMidYMin meet">
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M0,0L10,5L0,10z" fill="#97a1ab" />
            </marker>
          </defs>
          <g class="edges">
            {layout.edges.length < 3000 ? (
              layout.edges.map((e, i) => (
                <polyline key={i} points={e.points.map((p) => `${p.x},${p.y}`).join(" ")} marker-end="url(#arrow)" />
              ))
            ) : (
              <path d={paths} />
            )}
          </g>
          {names.map((name, i) => {
            const p = layout.nodes[i];
            const s = statuses[i] || "waiting";
            return (
              <g key={name} data-node={name} data-status={s} data-index={i} transform={`translate(${p.x},${p.y})`} class={runs[i] ? "node link" : "node"}>
                <title>{`${name} — ${s}`}</title>
                <rect width={layout.w} height={layout.h} rx={5} fill={colour(s)} />
                <text x={layout.w / 2} y={layout.h / 2} fill={textColour(s)}>
                  {name.length > 22 ? name.slice(0, 21) + "…" : name}
                </text>
              </g>
            );
          })}
        </svg>
      )}
    </div>
  );
}
