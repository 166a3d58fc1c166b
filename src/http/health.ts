// Owns the probe routes both HTTP listeners serve (the API's and the metrics listener): /healthz
// (the process answers) and /readyz. /readyz is 503 when the queue store cannot take mail: a write
// failed for a full or failing disk or an unreachable database since the last one that worked (on
// SQLite also: the disk is full), a write has been pending STUCK_WRITE_MS, or the store does not
// answer a read within 2 s. It is 200 `degraded` when writes are slow but complete
// (store-availability.ts: one pending or recently taking a second or more) — mail is still
// accepted, each 250 later; a read that times out behind such a write (SQLite has one database
// thread) is that slowness too. Otherwise 200 `ready`. Neither route needs a key and neither says
// more than its status and a bland reason.
import type { FastifyInstance } from 'fastify';
import type { QueueStore, WriteCheck } from '../store/store.js';

const READY_TIMEOUT_MS = 2000;
/** A write pending this long is stuck, not slow (PostgreSQL's default statement timeout). */
export const STUCK_WRITE_MS = 30_000;

const DEGRADED = { status: 'degraded', reason: 'the queue store is slow' };

type ProbeStore = Pick<QueueStore, 'nextDueAt' | 'checkWritable'>;
export interface ProbeAnswer { code: 200 | 503; body: { status: string; reason?: string } }

/** The probe paths, answered by answerProbe (also before the API is built: lazy-listener.ts). */
export const PROBE_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

/**
 * `starting`: the API application is still being built at start (http.buildAtStart): /readyz is 503
 * until it is, so that a load balancer sends no request that would wait for the build.
 */
export async function answerProbe(path: string, store: ProbeStore, starting = false): Promise<ProbeAnswer> {
  if (path === '/healthz') return { code: 200, body: { status: 'ok' } };
  if (starting) return { code: 503, body: { status: 'unavailable', reason: 'the API is starting' } };
  let answered = true;
  try {
    await withTimeout(store.nextDueAt(), READY_TIMEOUT_MS);
  } catch {
    answered = false;
  }
  const check: WriteCheck = await store.checkWritable();
  if (!check.writable) return { code: 503, body: { status: 'unavailable', reason: 'the queue store cannot write' } };
  if (check.slow && check.slow.pendingMs >= STUCK_WRITE_MS) return { code: 503, body: { status: 'unavailable', reason: 'the queue store does not complete writes' } };
  if (!answered && !check.slow) return { code: 503, body: { status: 'unavailable', reason: 'the queue store does not answer' } };
  if (check.slow) return { code: 200, body: DEGRADED };
  return { code: 200, body: { status: 'ready' } };
}

export function mountHealthRoutes(app: FastifyInstance, store: ProbeStore): void {
  for (const path of PROBE_PATHS) {
    app.get(path, async (_req, res) => {
      const a = await answerProbe(path, store);
      return res.code(a.code).send(a.body);
    });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), ms); })])
    .finally(() => clearTimeout(timer));
}
