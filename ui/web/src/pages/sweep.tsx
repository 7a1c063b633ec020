// A sweep: its trials sorted by the metric, the best marked, and plots of
// the metric against each swept param and over time.
import { useMemo } from "preact/hooks";
import { ChildFollower, getGraph, type Graph, type Run } from "../api";
import { Actions, Badge, ErrorText, Loading, When } from "../components";
import { Plot, type Point } from "../charts";
import { usePoll } from "../hooks";
import { isFinal, show, time } from "../status";

interface Data {
  graph: Graph;
  trials: Run[];
}

async function load(uuid: string, follower: ChildFollower, signal: AbortSignal): Promise<Data> {
  const [graph, all] = await Promise.all([getGraph(uuid, undefined, signal), follower.look(signal)]);
  // The trials of the current attempt, when the graph names them.
  const current = new Set((graph.nodes ?? []).map((n) => n.run).filter(Boolean));
  const trials = current.size ? all.filter((r) => current.has(r.uuid)) : all;
  return { graph, trials };
}

const paramsOf = (r: Run) => (r.params && Object.keys(r.params).length ? r.params : r.inputs) ?? {};

function metricValue(r: Run, metric: string): number | undefined {
  const v = r.outputs?.[metric];
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

export function SweepPage({ uuid }: { uuid: string }) {
  const follower = useMemo(() => new ChildFollower(uuid), [uuid]);
  const poll = usePoll<Data>((signal) => load(uuid, follower, signal), [uuid], 3000, (d) => !isFinal(d.graph.run?.status));
  const d = poll.data;
  const view = useMemo(() => (d ? analyse(d) : null), [d]);
  if (!d || !view) return <div class="page">{poll.error ? <ErrorText error={poll.error} /> : <Loading what="the sweep" />}</div>;
  const { graph } = d;
  const run = graph.run;
  const m = graph.matrix;
  const { metric, maximize, rows, params, best, plots, timePlot, bestLine } = view;
  return (
    <div class="page">
      <div class="page-head">
        <h1>
          <a href={`#/runs/${run.uuid}`}>{run.name || run.uuid}</a> <span class="kind">sweep</span>
        </h1>
        <Badge status={run.status} testid="run-status" />
        <span class="grow" />
        <Actions run={run} onDone={() => poll.reload()} />
      </div>
      <ErrorText error={poll.error} />
      <div class="facts">
        <span>kind <b>{m?.kind ?? run.matrix}</b></span>
        <span>trials <b data-testid="trial-count">{d.trials.length}</b>{m?.total ? ` of ${m.total}` : ""}</span>
        <span>metric <b>{metric || "—"}</b> {metric && (maximize ? "(maximize)" : "(minimize)")}{!m?.metric && metric ? " (first output)" : ""}</span>
        {best && (
          <span>best <b>{show(best.outputs?.[metric])}</b> by <a href={`#/runs/${best.uuid}`}>{best.name || best.uuid.slice(0, 12)}</a></span>
        )}
      </div>
      {metric && (
        <div class="plots">
          {plots.map((p) => <Plot key={p.param} testid={`plot-${p.param}`} title={`${metric} by ${p.param}`} xLabel={p.param} yLabel={metric} points={p.points} categories={p.categories} />)}
          <Plot testid="plot-time" title={`${metric} over time`} xLabel="trial end" yLabel={metric} points={timePlot} time line={bestLine} />
        </div>
      )}
      <table class="grid" data-testid="trials">
        <thead>
          <tr>
            <th>Trial</th>
            <th>Status</th>
            {params.map((p) => <th key={p}>{p}</th>)}
            <th>{metric || "metric"} {metric && (maximize ? "↓ max" : "↑ min")}</th>
            <th>Ended</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.uuid} data-run={r.uuid} data-best={r === best ? "true" : undefined} class={r === best ? "best" : ""}>
              <td>
                {r === best && <span class="star" title="best trial">★ </span>}
                <a href={`#/runs/${r.uuid}`}>{r.name || r.node || r.uuid.slice(0, 12)}</a>
              </td>
              <td><Badge status={r.status} /></td>
              {params.map((p) => <td key={p} class="mono">{show(paramsOf(r)[p])}</td>)}
              <td class="mono" data-testid="metric">{metric ? show(r.outputs?.[metric]) : ""}</td>
              <td>{isFinal(r.status) ? <When t={r.updatedAt} /> : <span class="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && <div class="empty">No trials yet.</div>}
    </div>
  );
}

function analyse({ graph, trials }: Data) {
  let metric = graph.matrix?.metric ?? "";
  const maximize = !!graph.matrix?.maximize;
  if (!metric) {
    const keys = new Set<string>();
    for (const t of trials) for (const [k, v] of Object.entries(t.outputs ?? {})) if (typeof v === "number") keys.add(k);
    metric = [...keys].sort()[0] ?? "";
  }
  const paramSet = new Set<string>();
  for (const t of trials) for (const k of Object.keys(paramsOf(t))) paramSet.add(k);
  const params = [...paramSet].sort();
  const val = (r: Run) => (metric ? metricValue(r, metric) : undefined);
  const rows = [...trials].sort((a, b) => {
    const va = val(a), vb = val(b);
    if (va === undefined && vb === undefined) return (a.name ?? a.uuid).localeCompare(b.name ?? b.uuid, undefined, { numeric: true });
    if (va === undefined) return 1;
    if (vb === undefined) return -1;
    return maximize ? vb - va : va - vb;
  });
  const best = rows.length && val(rows[0]) !== undefined ? rows[0] : undefined;
  const label = (r: Run) => `${r.name || r.uuid.slice(0, 12)}: ${metric}=${val(r)}`;
  const scored = trials.filter((r) => val(r) !== undefined);

  const plots = params.map((param) => {
    const values = scored.map((r) => paramsOf(r)[param]);
    const numeric = values.every((v) => typeof v === "number" || (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))));
    let categories: string[] | undefined;
    if (!numeric) {
      categories = [...new Set(values.map((v) => show(v)))].sort();
    }
    const points: Point[] = scored.map((r, i) => ({
      x: categories ? categories.indexOf(show(values[i])) : Number(values[i]),
      y: val(r)!,
      label: `${label(r)}, ${param}=${show(values[i])}`,
      best: r === best,
    }));
    return { param, points, categories };
  });

  const timed = scored.filter((r) => !isNaN(time(r.updatedAt))).sort((a, b) => time(a.updatedAt) - time(b.updatedAt));
  const timePlot: Point[] = timed.map((r) => ({ x: time(r.updatedAt), y: val(r)!, label: label(r), best: r === best }));
  const bestLine: { x: number; y: number }[] = [];
  let acc: number | undefined;
  for (const p of timePlot) {
    acc = acc === undefined ? p.y : maximize ? Math.max(acc, p.y) : Math.min(acc, p.y);
    bestLine.push({ x: p.x, y: acc });
  }
  return { metric, maximize, rows, params, best, plots, timePlot, bestLine };
}
