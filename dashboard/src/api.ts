// The dashboard's only door to the relay: fetch against the public /v1 API with the session cookie
// (same origin) and, on every state-changing request, the X-CSRF-Token header the session gave us.
// An admin picks the account to act for; it travels as X-Postlane-Account on every request.
// Errors come back as ApiFailure carrying the API's stable error code.

export interface User { username: string; role: 'admin' | 'account'; account: string | null }
export interface Session { user: User; csrfToken: string }
export interface Page<T> { data: T[]; next_cursor: string | null }

export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string) { super(message); }
}

let csrfToken = '';
let actingAccount: string | null = null;
let onUnauthorized: () => void = () => {};

export function setCsrfToken(token: string): void { csrfToken = token; }
export function setActingAccount(account: string | null): void { actingAccount = account; }
export function setUnauthorizedHandler(fn: () => void): void { onUnauthorized = fn; }

type Query = Record<string, string | number | undefined | null>;

/** A /v1 path with the non-empty query parameters appended. */
export function buildPath(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** operator: send without the acting account (an admin's operator-only request, e.g. an account's plan). */
interface RequestOptions { operator?: boolean }

export async function request<T>(method: string, path: string, body?: unknown, query?: Query, opts: RequestOptions = {}): Promise<T> {
  const { res, text } = await send(method, path, body, query, opts);
  if (res.status === 204) return undefined as T;
  return parseJson(text) as T;
}

/** A non-JSON answer (CSV export) as text. */
export async function requestText(path: string): Promise<string> {
  return (await send('GET', path)).text;
}

async function send(method: string, path: string, body?: unknown, query?: Query, opts: RequestOptions = {}): Promise<{ res: Response; text: string }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (actingAccount && !opts.operator && !path.startsWith('/v1/dashboard/')) headers['x-postlane-account'] = actingAccount;
  const res = await fetch(buildPath(path, query), {
    method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed = parseJson(text);
  if (!res.ok) {
    const err = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
    if (res.status === 401 && !path.startsWith('/v1/dashboard/')) onUnauthorized();
    throw new ApiFailure(res.status, err?.code ?? 'http_' + res.status, err?.message ?? `The server answered ${res.status}`);
  }
  return { res, text };
}

function parseJson(text: string): unknown {
  if (!text) return null;
  try { return JSON.parse(text); } catch { return null; }
}

export const api = {
  get: <T>(path: string, query?: Query) => request<T>('GET', path, undefined, query),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  patch: <T>(path: string, body: unknown, opts?: RequestOptions) => request<T>('PATCH', path, body, undefined, opts),
  del: <T = void>(path: string, query?: Query) => request<T>('DELETE', buildPath(path, query)),
};

export const login = (username: string, password: string) => api.post<Session>('/v1/dashboard/login', { username, password });
export const readSession = () => api.get<Session>('/v1/dashboard/session');
export const logout = () => api.post<void>('/v1/dashboard/logout');
