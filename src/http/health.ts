// Owns the probe routes both HTTP listeners serve (the API's and the metrics listener): /healthz
// (the process answers) and /readyz (the queue store answers within 2 s; 503 otherwise). Neither
// needs a key and neither says more than its status.
import type { FastifyInstance } from 'fastify';
import type { QueueStore } from '../queue/store.js';

const READY_TIMEOUT_MS = 2000;

export function mountHealthRoutes(app: FastifyInstance, store: Pick<QueueStore, 'nextDueAt'>): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    try {
      await withTimeout(store.nextDueAt(), READY_TIMEOUT_MS);
      return { status: 'ready' };
    } catch {
      return res.code(503).send({ status: 'unavailable' });
    }
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), ms); })])
    .finally(() => clearTimeout(timer));
}
