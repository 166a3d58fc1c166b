// Owns the probe routes both HTTP listeners serve (the API's and the metrics listener): /healthz
// (the process answers) and /readyz (the queue store answers a read within 2 s and can write: no
// write failed for a full or failing disk or an unreachable database since the last one that
// worked, and on SQLite the disk is not full; 503 otherwise). Neither needs a key and neither says
// more than its status and a bland reason.
import type { FastifyInstance } from 'fastify';
import type { QueueStore } from '../store/store.js';

const READY_TIMEOUT_MS = 2000;

export function mountHealthRoutes(app: FastifyInstance, store: Pick<QueueStore, 'nextDueAt' | 'checkWritable'>): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    try {
      await withTimeout(store.nextDueAt(), READY_TIMEOUT_MS);
    } catch {
      return res.code(503).send({ status: 'unavailable', reason: 'the queue store does not answer' });
    }
    const check = await store.checkWritable();
    if (!check.writable) return res.code(503).send({ status: 'unavailable', reason: 'the queue store cannot write' });
    return { status: 'ready' };
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), ms); })])
    .finally(() => clearTimeout(timer));
}
