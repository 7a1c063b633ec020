// The runs list: filters and the page cursor live in the hash query.
import { useEffect, useState } from "preact/hooks";
import { listRuns, type ListResponse } from "../api";
import { Badge, ErrorText, Loading, When } from "../components";
import { usePoll } from "../hooks";
import { go, withQuery } from "../routes";
import { kindOf, runDuration, STATUSES } from "../status";

const FILTERS = ["status", "kind", "project", "parent"] as const;

export function RunsPage({ query }: { query: URLSearchParams }) {
  const f: Record<string, string> = {};
  for (const k of FILTERS) f[k] = query.get(k) ?? "";
  const after = query.get("after") ?? "";
  const back = query.get("back") ?? "";
  // How many a page shows (?limit=, 1 to 1000, else 50); kept when paging.
  const n = Number(query.get("limit"));
  const limit = Number.isInteger(n) && n >= 1 && n <= 1000 ? n : 50;
  const paging: Record<string, string> = query.get("limit") ? { limit: String(limit) } : {};
  const key = query.toString();

  const poll = usePoll<ListResponse>(
    // Newest first lists the runs started by no other run; a parent's
    // children come in their own order.
    (signal) => listRuns({ ...f, after, limit, order: f.parent ? "" : "newest" }, signal),
    [key],
    3000,
    () => true,
  );

  const set = (changes: Record<string, string>, keepPage = false) => {
    const q: Record<string, string> = { ...f, ...paging, ...changes };
    if (keepPage) Object.assign(q, { after, back });
    go(withQuery("#/runs", q));
  };
  const next = () => {
    if (!poll.data?.next) return;
    const stack = back ? back.split(",") : [];
    stack.push(after || "-");
    go(withQuery("#/runs", { ...f, ...paging, after: poll.data.next, back: stack.join(",") }));
  };
  const prev = () => {
    const stack = back ? back.split(",") : [];
    const to = stack.pop();
    go(withQuery("#/runs", { ...f, ...paging, after: to && to !== "-" ? to : "", back: stack.join(",") }));
  };
  const page = back ? back.split(",").length + 1 : 1;
  const runs = poll.data?.runs ?? [];
  const now = Date.now();

  return (
    <div class="page">
      <div class="page-head">
        <h1>Runs</h1>
        <Filters values={f} onChange={(k, v) => set({ [k]: v })} />
      </div>
      <ErrorText error={poll.error} />
      {poll.loading && !poll.data ? (
        <Loading what="runs" />
      ) : (
        <>
          <table class="grid" data-testid="runs">
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Kind</th>
                <th>Project</th>
                <th>User</th>
                <th>Created</th>
                <th>Duration</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.uuid} data-run={r.uuid}>
                  <td>
                    <a href={`#/runs/${r.uuid}`}>{r.name || r.node || r.uuid}</a>
                    <div class="mono muted small">{r.uuid.slice(0, 12)}</div>
                  </td>
                  <td data-testid="status" data-status={r.status}>
                    <Badge status={r.status} />
                  </td>
                  <td>{kindOf(r)}</td>
                  <td>{r.project || <span class="muted">—</span>}</td>
                  <td>{r.user || <span class="muted">—</span>}</td>
                  <td><When t={r.createdAt} /></td>
                  <td>{runDuration(r, now)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {runs.length === 0 && <div class="empty">No runs{Object.values(f).some(Boolean) ? " match these filters" : " yet"}.</div>}
          <div class="pager">
            <button type="button" data-testid="prev-page" disabled={page === 1} onClick={prev}>← Newer</button>
            <span class="muted">page {page}</span>
            <button type="button" data-testid="next-page" disabled={!poll.data?.next} onClick={next}>Older →</button>
          </div>
        </>
      )}
    </div>
  );
}

function Filters({ values, onChange }: { values: Record<string, string>; onChange: (k: string, v: string) => void }) {
  // The text filters apply when typing pauses (or on Enter), not on every key.
  const [text, setText] = useState({ project: values.project, parent: values.parent });
  useEffect(() => setText({ project: values.project, parent: values.parent }), [values.project, values.parent]);
  useEffect(() => {
    const t = setTimeout(() => {
      for (const k of ["project", "parent"] as const) if (text[k] !== values[k]) onChange(k, text[k]);
    }, 400);
    return () => clearTimeout(t);
  }, [text.project, text.parent]);
  const commit = (e: Event) => {
    e.preventDefault();
    for (const k of ["project", "parent"] as const) if (text[k] !== values[k]) onChange(k, text[k]);
  };
  return (
    <form class="filters" onSubmit={commit}>
      <label>
        Status
        <select name="status" value={values.status} onChange={(e) => onChange("status", e.currentTarget.value)}>
          <option value="">all</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </label>
      <label>
        Kind
        <select name="kind" value={values.kind} onChange={(e) => onChange("kind", e.currentTarget.value)}>
          <option value="">all</option>
          <option value="schedule">schedule</option>
          <option value="matrix">matrix</option>
        </select>
      </label>
      <label>
        Project
        <input name="project" value={text.project} placeholder="any" onInput={(e) => setText({ ...text, project: e.currentTarget.value })} />
      </label>
      <label>
        Parent
        <input name="parent" class="mono" value={text.parent} placeholder="uuid" onInput={(e) => setText({ ...text, parent: e.currentTarget.value })} />
      </label>
      <button type="submit" class="hidden-submit" tabIndex={-1} aria-hidden="true" />
    </form>
  );
}
