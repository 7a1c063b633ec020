// Statuses, their colours, and the small formatting helpers the pages share.
import type { Run } from "./api";

export const STATUSES = [
  "created", "compiled", "queued", "scheduled", "starting", "running", "processing",
  "succeeded", "failed", "stopped", "stopping", "skipped", "upstream_failed",
  "retrying", "resuming", "warning", "unschedulable", "on_schedule",
];

export const FINAL = new Set(["succeeded", "failed", "stopped", "skipped", "upstream_failed"]);

export const isFinal = (s: string | undefined) => !!s && FINAL.has(s);

const GREEN = "#2e9e4f", RED = "#d64545", GREY = "#8a939c", BLUE = "#2f7fd8",
  AMBER = "#e0a21b", PURPLE = "#8b5cc8", LIGHT = "#dde2e7", ORANGE = "#e06a1b";

export const COLOURS: Record<string, string> = {
  succeeded: GREEN,
  failed: RED, upstream_failed: RED,
  stopped: GREY, skipped: GREY, stopping: GREY,
  running: BLUE, processing: BLUE, starting: BLUE,
  queued: AMBER, scheduled: AMBER, created: AMBER, compiled: AMBER, retrying: AMBER, resuming: AMBER,
  on_schedule: PURPLE,
  warning: ORANGE, unschedulable: ORANGE,
  waiting: LIGHT,
};

export const colour = (s: string | undefined) => COLOURS[s || "waiting"] ?? GREY;

/** textColour is what reads on a status colour. */
export const textColour = (s: string | undefined) => ((s || "waiting") === "waiting" || COLOURS[s!] === AMBER ? "#1d2329" : "#fff");

/** ORDER puts the statuses that need a look first in legends. */
export const ORDER = [
  "failed", "upstream_failed", "running", "processing", "starting", "stopping", "retrying", "resuming",
  "queued", "scheduled", "compiled", "created", "warning", "unschedulable", "on_schedule",
  "succeeded", "stopped", "skipped", "waiting",
];

export const orderOf = (s: string) => {
  const i = ORDER.indexOf(s);
  return i < 0 ? ORDER.length : i;
};

export function isDag(r: Run): boolean {
  if (r.matrix || r.schedule || r.events) return false;
  if (r.compiled && typeof r.compiled === "object") return r.compiled.component?.run?.kind === "dag";
  return (r.blobs ?? 0) > 0;
}

export function kindOf(r: Run): string {
  if (r.schedule) return "schedule";
  if (r.matrix) return "sweep";
  if (r.events) return "subscription";
  if (isDag(r)) return "dag";
  return "job";
}

/** graphLink is where a run's graph is shown, if it has one. */
export function graphLink(r: Run): string | null {
  if (r.schedule) return `#/schedule/${r.uuid}`;
  if (r.matrix) return `#/sweep/${r.uuid}`;
  if (isDag(r) || r.events) return `#/dag/${r.uuid}`;
  return null;
}

export function time(s: string | undefined): number {
  if (!s) return NaN;
  const t = Date.parse(s);
  return t > 0 ? t : NaN;
}

export function absolute(s: string | undefined): string {
  const t = time(s);
  return isNaN(t) ? "" : new Date(t).toLocaleString();
}

export function relative(s: string | undefined, now = Date.now()): string {
  const t = time(s);
  if (isNaN(t)) return "—";
  const d = Math.round((t - now) / 1000);
  const a = Math.abs(d);
  let txt: string;
  if (a < 5) return "just now";
  if (a < 60) txt = `${a}s`;
  else if (a < 3600) txt = `${Math.floor(a / 60)}m`;
  else if (a < 86400) txt = `${Math.floor(a / 3600)}h`;
  else txt = `${Math.floor(a / 86400)}d`;
  return d < 0 ? `${txt} ago` : `in ${txt}`;
}

export function duration(ms: number): string {
  if (!(ms >= 0)) return "—";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  const h = Math.floor(s / 3600);
  if (h < 48) return `${h}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function runDuration(r: Run, now = Date.now()): string {
  const start = time(r.createdAt);
  const end = isFinal(r.status) ? time(r.updatedAt) : now;
  return duration(end - start);
}

/** show renders any value for a key/value table. */
export function show(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}
