// Small pieces the pages share.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { action, ApiError, type Run } from "./api";
import { absolute, colour, isFinal, relative, show, textColour } from "./status";
import { go } from "./routes";
import { useMe } from "./session";

export function Badge({ status, testid }: { status?: string; testid?: string }) {
  const s = status || "waiting";
  return (
    <span class="badge" data-testid={testid} style={{ background: colour(s), color: textColour(s) }}>
      {s}
    </span>
  );
}

export function Loading({ what }: { what?: string }) {
  return (
    <div class="loading" data-testid="loading">
      <span class="spinner" /> Loading{what ? ` ${what}` : ""}…
    </div>
  );
}

export function ErrorText({ error }: { error?: string }) {
  if (!error) return null;
  return (
    <div class="error" role="alert" data-testid="error">
      {error}
    </div>
  );
}

export function When({ t }: { t?: string }) {
  if (!t) return <span class="muted">—</span>;
  return <span title={absolute(t)}>{relative(t)}</span>;
}

export function Id({ id, href }: { id?: string; href?: string }) {
  if (!id) return <span class="muted">—</span>;
  return href ? (
    <a class="mono" href={href}>
      {id}
    </a>
  ) : (
    <span class="mono">{id}</span>
  );
}

export function KV({ title, data, testid }: { title: string; data?: Record<string, unknown>; testid?: string }) {
  const keys = Object.keys(data ?? {}).sort();
  return (
    <section class="card" data-testid={testid}>
      <h3>{title}</h3>
      {keys.length === 0 ? (
        <div class="muted">none</div>
      ) : (
        <table class="kv">
          <tbody>
            {keys.map((k) => (
              <tr key={k}>
                <th>{k}</th>
                <td class="mono">{show(data![k])}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function Card({ title, children, testid }: { title?: string; children: ComponentChildren; testid?: string }) {
  return (
    <section class="card" data-testid={testid}>
      {title && <h3>{title}</h3>}
      {children}
    </section>
  );
}

/**
 * waitsForApproval: the run asks to be approved (its component says
 * isApproved: false) and is held, compiled, until it is. A record too large
 * to carry its compiled form is given the benefit of the doubt.
 */
export function waitsForApproval(r: Run): boolean {
  if (r.approved || r.status !== "compiled") return false;
  const comp = r.compiled?.component;
  return comp ? comp.isApproved === false : true;
}

/** Actions: the stop/restart/resume/approve buttons that make sense for a run. */
export function Actions({ run, only, onDone }: { run: Run; only?: string[]; onDone: (r: Run) => void }) {
  const me = useMe();
  const [busy, setBusy] = useState("");
  const [error, setError] = useState("");
  const final = isFinal(run.status);
  const shown: string[] = [];
  if (!final) shown.push("stop");
  if (run.status === "stopped" || run.status === "failed") shown.push("resume");
  if (waitsForApproval(run)) shown.push("approve");
  shown.push("restart");
  const list = only ? shown.filter((a) => only.includes(a)) : shown;
  const readOnly = me.role === "read";
  const act = async (what: string) => {
    setBusy(what);
    setError("");
    try {
      const r = await action(run.uuid, what);
      if (what === "restart" && r && r.uuid && r.uuid !== run.uuid) go(`#/runs/${r.uuid}`);
      else onDone(r);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy("");
    }
  };
  return (
    <div class="actions">
      {list.map((a) => (
        <button
          key={a}
          type="button"
          data-action={a}
          class={a === "stop" ? "danger" : ""}
          disabled={readOnly || busy !== ""}
          title={readOnly ? "your role may only read" : undefined}
          onClick={() => act(a)}
        >
          {busy === a ? `${a}…` : a[0].toUpperCase() + a.slice(1)}
        </button>
      ))}
      <span class="action-error" data-testid="action-error">
        {error}
      </span>
    </div>
  );
}
