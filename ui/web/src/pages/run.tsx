// One run: its record, conditions, values, spec, live logs and actions.
import { useEffect, useRef, useState } from "preact/hooks";
import { getRun, raw, runPath, type Run } from "../api";
import { Actions, Badge, Card, ErrorText, Id, KV, Loading, When } from "../components";
import { usePoll } from "../hooks";
import { absolute, graphLink, isFinal, kindOf, runDuration, show } from "../status";

export function RunPage({ uuid }: { uuid: string }) {
  const poll = usePoll<Run>((signal) => getRun(uuid, signal), [uuid], 2000, (r) => !isFinal(r.status));
  const run = poll.data;
  if (!run) return <div class="page">{poll.error ? <ErrorText error={poll.error} /> : <Loading what="the run" />}</div>;
  const graph = graphLink(run);
  return (
    <div class="page">
      <div class="page-head">
        <h1>
          {run.name || run.node || run.uuid} <span class="kind">{kindOf(run)}</span>
        </h1>
        <Badge status={run.status} testid="run-status" />
        {graph && (
          <a class="button" data-testid="graph-link" href={graph}>
            Graph
          </a>
        )}
        <span class="grow" />
        <Actions run={run} onDone={() => poll.reload()} />
      </div>
      <ErrorText error={poll.error} />
      <div class="cols">
        <Card title="Run">
          <table class="kv">
            <tbody>
              <tr><th>uuid</th><td><Id id={run.uuid} /></td></tr>
              <tr><th>project</th><td>{run.project || "—"}</td></tr>
              <tr><th>user</th><td>{run.user || "—"}</td></tr>
              {run.node && <tr><th>node</th><td>{run.node}</td></tr>}
              <tr><th>parent</th><td><Id id={run.parent} href={run.parent && `#/runs/${run.parent}`} /></td></tr>
              <tr><th>root</th><td><Id id={run.root} href={run.root && `#/runs/${run.root}`} /></td></tr>
              {run.restartOf && <tr><th>restart of</th><td><Id id={run.restartOf} href={`#/runs/${run.restartOf}`} /></td></tr>}
              {run.hookOf && <tr><th>hook of</th><td><Id id={run.hookOf} href={`#/runs/${run.hookOf}`} /></td></tr>}
              {run.cacheOf && <tr><th>cache of</th><td><Id id={run.cacheOf} href={`#/runs/${run.cacheOf}`} /></td></tr>}
              {run.matrix && <tr><th>matrix</th><td>{run.matrix}</td></tr>}
              {run.schedule && <tr><th>schedule</th><td>{run.schedule}</td></tr>}
              {run.fireAt && <tr><th>fire at</th><td>{absolute(run.fireAt)}</td></tr>}
              <tr><th>attempt</th><td data-testid="attempt">{run.attempt ?? 0}</td></tr>
              {run.approved && <tr><th>approved</th><td>yes{run.approvedBy ? ` by ${run.approvedBy}` : ""}</td></tr>}
              <tr><th>created</th><td><When t={run.createdAt} /> <span class="muted small">{absolute(run.createdAt)}</span></td></tr>
              <tr><th>updated</th><td><When t={run.updatedAt} /> <span class="muted small">{absolute(run.updatedAt)}</span></td></tr>
              <tr><th>duration</th><td>{runDuration(run)}</td></tr>
            </tbody>
          </table>
        </Card>
        <Conditions run={run} />
      </div>
      <div class="cols three">
        <KV title="Params" data={run.params} testid="params" />
        <KV title="Inputs" data={run.inputs} testid="inputs" />
        <KV title="Outputs" data={run.outputs} testid="outputs" />
      </div>
      {graph ? (
        <div class="card">
          <h3>Logs</h3>
          <p class="muted">
            A {kindOf(run)} has no log of its own: its runs do. <a href={graph}>See them on its graph.</a>
          </p>
        </div>
      ) : (
        <Logs run={run} />
      )}
      <details class="card spec">
        <summary>Spec</summary>
        <pre data-testid="spec">{run.spec || "(the spec is stored apart: too large to show)"}</pre>
      </details>
    </div>
  );
}

function Conditions({ run }: { run: Run }) {
  const conds = run.conditions ?? [];
  const cols: string[] = [];
  for (const c of conds) for (const k of Object.keys(c)) if (!cols.includes(k)) cols.push(k);
  return (
    <Card title="Conditions" testid="conditions">
      {conds.length === 0 ? (
        <div class="muted">none</div>
      ) : (
        <table class="grid compact">
          <thead><tr>{cols.map((c) => <th key={c}>{c}</th>)}</tr></thead>
          <tbody>
            {conds.map((c, i) => (
              <tr key={i}>
                {cols.map((k) => (
                  <td key={k} title={/time/i.test(k) ? absolute(c[k] as string) : undefined}>
                    {/time/i.test(k) && typeof c[k] === "string" ? absolute(c[k] as string) || show(c[k]) : show(c[k])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

/** Logs follows the log of an attempt as it is written. */
function Logs({ run }: { run: Run }) {
  const pre = useRef<HTMLPreElement>(null);
  const [attempt, setAttempt] = useState(0); // 0: the current one
  const [note, setNote] = useState("");
  const final = isFinal(run.status);
  const finalRef = useRef(final);
  finalRef.current = final;
  const [restartKey, setRestartKey] = useState(0);

  useEffect(() => {
    const el = pre.current!;
    el.textContent = "";
    const abort = new AbortController();
    let timer = 0;
    let stopped = false;
    const follow = async () => {
      const q = attempt ? `?attempt=${attempt}` : "?follow=true";
      try {
        setNote("");
        const res = await raw(runPath(run.uuid) + "/logs" + q, { signal: abort.signal });
        el.textContent = "";
        const reader = res.body!.getReader();
        const dec = new TextDecoder();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          const stick = el.scrollHeight - el.scrollTop - el.clientHeight < 30;
          el.appendChild(document.createTextNode(dec.decode(value, { stream: true })));
          if (stick) el.scrollTop = el.scrollHeight;
        }
        el.appendChild(document.createTextNode(dec.decode()));
        if (!attempt && !finalRef.current && !stopped) {
          // The attempt ended but the run goes on (a retry): follow the next one.
          timer = setTimeout(follow, 1500) as unknown as number;
        }
      } catch (e) {
        if (abort.signal.aborted) return;
        const status = (e as { status?: number }).status;
        if (status === 404) {
          setNote(finalRef.current ? "No log for this run." : "No log yet: waiting for the run to start…");
          if (!finalRef.current) timer = setTimeout(follow, 1000) as unknown as number;
        } else {
          setNote((e as Error).message);
          if (!finalRef.current) timer = setTimeout(follow, 3000) as unknown as number;
        }
      }
    };
    void follow();
    return () => {
      stopped = true;
      abort.abort();
      clearTimeout(timer);
    };
  }, [run.uuid, attempt, restartKey]);

  const attempts = run.attempt ?? 0;
  return (
    <section class="card">
      <div class="card-head">
        <h3>Logs</h3>
        {attempts > 1 && (
          <label class="small">
            attempt{" "}
            <select value={attempt} onChange={(e) => setAttempt(Number(e.currentTarget.value))}>
              <option value={0}>current</option>
              {Array.from({ length: attempts }, (_, i) => i + 1).map((n) => <option key={n} value={n}>{n}</option>)}
            </select>
          </label>
        )}
        <span class="grow" />
        <button type="button" class="small" onClick={() => setRestartKey(restartKey + 1)}>Reload</button>
        {!final && <span class="live">● live</span>}
      </div>
      {note && <div class="muted small">{note}</div>}
      <pre class="logs" data-testid="logs" ref={pre} />
    </section>
  );
}
