// A schedule: what it is, where it stands, the coming fires and the past ones.
import { getGraph, type Graph } from "../api";
import { Actions, Badge, Card, ErrorText, Loading, When } from "../components";
import { usePoll } from "../hooks";
import { absolute, isFinal, relative } from "../status";

export function SchedulePage({ uuid }: { uuid: string }) {
  const poll = usePoll<Graph>((signal) => getGraph(uuid, undefined, signal), [uuid], 3000, (g) => !isFinal(g.run?.status));
  const g = poll.data;
  if (!g) return <div class="page">{poll.error ? <ErrorText error={poll.error} /> : <Loading what="the schedule" />}</div>;
  const run = g.run;
  const s = g.schedule;
  const st = s?.state ?? {};
  const fires = [...(g.nodes ?? [])].reverse();
  return (
    <div class="page">
      <div class="page-head">
        <h1>
          <a href={`#/runs/${run.uuid}`}>{run.name || run.uuid}</a> <span class="kind">schedule</span>
        </h1>
        <Badge status={run.status} testid="run-status" />
        <span class="grow" />
        <Actions run={run} only={["stop", "resume"]} onDone={() => poll.reload()} />
      </div>
      <ErrorText error={poll.error} />
      {!s && <div class="notice">This run is not a schedule.</div>}
      <div class="cols">
        <Card title="Schedule">
          <table class="kv">
            <tbody>
              <tr><th>kind</th><td>{s?.kind ?? run.schedule}</td></tr>
              <tr><th>description</th><td data-testid="schedule-description">{s?.description || "—"}</td></tr>
              <tr><th>runs</th><td>{s?.pipeline ? "a pipeline each fire" : "a job each fire"}</td></tr>
              <tr><th>fired</th><td data-testid="fired">{st.fired ?? 0}</td></tr>
              <tr><th>skipped</th><td data-testid="skipped">{st.skipped ?? 0}</td></tr>
              <tr><th>last</th><td>{st.last ? <>{absolute(st.last)} <span class="muted">({relative(st.last)})</span></> : "—"}</td></tr>
              <tr><th>next</th><td data-testid="next">{st.next ? <>{absolute(st.next)} <span class="muted">({relative(st.next)})</span></> : "—"}</td></tr>
              {st.lastChild && <tr><th>last run</th><td><a class="mono" href={`#/runs/${st.lastChild}`}>{st.lastChild}</a></td></tr>}
            </tbody>
          </table>
        </Card>
        <Card title="Coming fires">
          {s?.coming?.length ? (
            <ul class="coming" data-testid="coming">
              {s.coming.map((t) => (
                <li key={t}>{absolute(t)} <span class="muted">({relative(t)})</span></li>
              ))}
            </ul>
          ) : (
            <>
              <ul class="coming" data-testid="coming" />
              <div class="muted">None coming.</div>
            </>
          )}
        </Card>
      </div>
      <Card title={`Past fires (${fires.length})`}>
        <table class="grid" data-testid="fires">
          <thead><tr><th>Nominal time</th><th>Status</th><th>Run</th></tr></thead>
          <tbody>
            {fires.map((n) => (
              <tr key={n.name} data-run={n.run}>
                <td title={n.name}>{absolute(n.name) || n.name} <span class="muted small">(<When t={n.name} />)</span></td>
                <td><Badge status={n.status} /></td>
                <td>{n.run ? <a class="mono" href={`#/runs/${n.run}`}>{n.run}</a> : <span class="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {fires.length === 0 && <div class="muted">No fires yet.</div>}
      </Card>
    </div>
  );
}
