// Owns the Idempotency-Key contract of the POST routes: the first request with a key runs and its
// answer is stored; a retry with the same key and body gets that answer again (header
// Idempotent-Replayed: true), never a second send; the same key with another body is 422; a retry
// while the first is still running is 409. A request that failed without effect (5xx, 429) gives
// its key back, so the client's retry runs for real. Records live in the store (shared by nodes).
// A token or secret in an answer is never stored: its replay carries null there (shown once).
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { PlatformStore } from '../store/platform-store.js';
import { ApiError } from '../ingress/http/api-error.js';
import type { ApiResponse } from './route.js';

type IdempotencyStore = Pick<PlatformStore, 'reserveIdempotencyKey' | 'completeIdempotencyKey' | 'releaseIdempotencyKey'>;

const KEY_RE = /^[\x21-\x7e]{1,255}$/;

export const requestHash = (method: string, path: string, body: unknown) =>
  createHash('sha256').update(`${method} ${path}\n${JSON.stringify(body ?? null)}`).digest('hex');

/** Whether an answer is final for the key (kept and replayed) or leaves the request retryable. */
const isFinal = (status: number) => status < 500 && status !== 429 && status !== 409;

/** The answer as stored for replays: fields shown only once (tokens, secrets) set to null. */
function storable(body: unknown, secretFields: readonly string[]): unknown {
  if (!secretFields.length || !body || typeof body !== 'object') return body ?? null;
  return { ...body, ...Object.fromEntries(secretFields.filter((f) => f in body).map((f) => [f, null])) };
}

export async function withIdempotency(
  store: IdempotencyStore, clock: Clock, account: string, key: string, hash: string, run: () => Promise<ApiResponse>,
  secretFields: readonly string[] = [],
): Promise<ApiResponse> {
  if (!KEY_RE.test(key)) {
    throw new ApiError(400, 'invalid_header', 'The Idempotency-Key header is invalid', [{ path: 'Idempotency-Key', message: '1 to 255 printable ASCII characters' }]);
  }
  const existing = await store.reserveIdempotencyKey(account, key, hash, clock.now());
  if (existing) {
    if (existing.requestHash !== hash) throw new ApiError(422, 'idempotency_key_reused', 'This Idempotency-Key was used with a different request');
    if (existing.response === null) throw new ApiError(409, 'idempotency_in_progress', 'A request with this Idempotency-Key is still being processed');
    return { status: existing.response.status, body: existing.response.body, headers: { 'idempotent-replayed': 'true' } };
  }
  let res: ApiResponse;
  try {
    res = await run();
  } catch (err) {
    if (err instanceof ApiError && isFinal(err.status)) await store.completeIdempotencyKey(account, key, { status: err.status, body: err.toBody() });
    else await store.releaseIdempotencyKey(account, key).catch(() => undefined);
    throw err;
  }
  // The work is done: a failure to record the answer must not turn it into an error (a retry then
  // gets 409 until the record is purged, never a second send).
  if (isFinal(res.status)) await store.completeIdempotencyKey(account, key, { status: res.status, body: storable(res.body, secretFields) }).catch(() => undefined);
  else await store.releaseIdempotencyKey(account, key).catch(() => undefined);
  return res;
}
