// The API client: every call carries the bearer token when one is set; an
// error answer becomes an ApiError with the server's text.

export const TOKEN_KEY = "plexus.token";

export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  [k: string]: unknown;
}

export interface Run {
  uuid: string;
  name?: string;
  project?: string;
  user?: string;
  parent?: string;
  root?: string;
  node?: string;
  matrix?: string;
  schedule?: string;
  fireAt?: string;
  events?: boolean;
  component?: string;
  hookOf?: string;
  spec?: string;
  params?: Record<string, unknown>;
  compiled?: { component?: { isApproved?: boolean; run?: { kind?: string } } } & Record<string, unknown>;
  blobs?: number;
  status: string;
  conditions?: Condition[];
  attempt?: number;
  outputs?: Record<string, unknown>;
  inputs?: Record<string, unknown>;
  approved?: boolean;
  approvedBy?: string;
  restartOf?: string;
  cacheOf?: string;
  createdAt?: string;
  updatedAt?: string;
}

export interface Whoami {
  user?: string;
  role: string;
  projects?: string[];
  open?: boolean;
}

export interface ListResponse {
  runs: Run[] | null;
  next?: string;
  /** Listing a parent's children: the store revision read at, `since` for the next look. */
  revision?: number;
}

export interface GraphNode {
  name: string;
  upstream?: string[];
  trigger?: string;
  run?: string;
  status?: string;
  cacheOf?: string;
  pipeline?: boolean;
}

export interface Graph {
  run: Run;
  nodes: GraphNode[] | null;
  summary?: { total: number; counts: Record<string, number> };
  truncated?: boolean;
  matrix?: { kind: string; total?: number; metric?: string; maximize?: boolean };
  schedule?: {
    kind: string;
    description?: string;
    state?: { last?: string; fired?: number; skipped?: number; next?: string; lastChild?: string };
    coming?: string[];
    pipeline?: boolean;
  };
  subscription?: { listening?: unknown; cursor?: unknown; pipeline?: boolean };
}

export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

let onUnauthorized: (msg: string) => void = () => {};

/** setUnauthorizedHandler names what a 401 from any call does. */
export function setUnauthorizedHandler(f: (msg: string) => void) {
  onUnauthorized = f;
}

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(t: string | null) {
  if (t === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, t);
}

function headers(token: string | null): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function errorOf(res: Response): Promise<ApiError> {
  let msg = `${res.status} ${res.statusText}`;
  try {
    const text = await res.text();
    try {
      const body = JSON.parse(text);
      if (body && typeof body.error === "string") msg = body.error;
      else if (text) msg = text;
    } catch {
      if (text.trim()) msg = text.trim();
    }
  } catch {
    // the body could not be read: the status says enough
  }
  return new ApiError(res.status, msg);
}

/** raw fetches an API path; a 401 goes to the login page unless quiet. */
export async function raw(path: string, init: RequestInit = {}, token = getToken(), quiet = false): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers: { ...headers(token), ...(init.headers as Record<string, string> | undefined) } });
  } catch (e) {
    throw new ApiError(0, `the server cannot be reached: ${(e as Error).message}`);
  }
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401 && !quiet) onUnauthorized(err.message);
    throw err;
  }
  return res;
}

export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await raw(path, { signal });
  return (await res.json()) as T;
}

export async function post<T>(path: string): Promise<T> {
  const res = await raw(path, { method: "POST" });
  return (await res.json()) as T;
}

/** whoami asks who a token (or none) is; it never redirects on 401. */
export async function whoami(token: string | null): Promise<Whoami> {
  try {
    const res = await raw("/api/v1/whoami", {}, token, true);
    return (await res.json()) as Whoami;
  } catch (e) {
    // A server without the endpoint: take it as open, its calls will say more.
    if (e instanceof ApiError && e.status === 404) return { open: !token, role: "admin", user: token ? "?" : undefined };
    throw e;
  }
}

export const runPath = (uuid: string) => `/api/v1/runs/${encodeURIComponent(uuid)}`;

export function getRun(uuid: string, signal?: AbortSignal) {
  return get<Run>(runPath(uuid), signal);
}

export function getGraph(uuid: string, max?: number, signal?: AbortSignal) {
  return get<Graph>(runPath(uuid) + "/graph" + (max ? `?max=${max}` : ""), signal);
}

export function listRuns(q: Record<string, string | number | undefined>, signal?: AbortSignal) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== "") p.set(k, String(v));
  return get<ListResponse>("/api/v1/runs?" + p.toString(), signal);
}

/**
 * ChildFollower keeps a run's children up to date: its first look reads
 * them all, each next one only those changed since the look before, so
 * following a sweep of many trials costs what changed in it.
 */
export class ChildFollower {
  private byId = new Map<string, Run>();
  private rev = 0;
  constructor(private parent: string) {}

  async look(signal?: AbortSignal): Promise<Run[]> {
    let after: string | undefined;
    let rev = this.rev;
    for (let i = 0; i < 1000; i++) {
      const page = await listRuns({ parent: this.parent, limit: 1000, after, since: this.rev || undefined }, signal);
      if (i === 0 && page.revision) rev = page.revision;
      for (const r of page.runs ?? []) this.byId.set(r.uuid, r);
      if (!page.next || page.next === after) break;
      after = page.next;
    }
    this.rev = rev;
    return [...this.byId.values()];
  }
}

export function action(uuid: string, what: string) {
  return post<Run>(runPath(uuid) + "/" + what);
}
