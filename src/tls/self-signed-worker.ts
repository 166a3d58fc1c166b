// The thread in which the relay makes its self-signed certificate (certificates.ts,
// createSelfSignedApart): what generating it loads is freed with this thread's isolate.
import { parentPort, workerData } from 'node:worker_threads';
import { createSelfSigned } from './certificates.js';

const { hostname } = workerData as { hostname: string };
createSelfSigned(hostname).then(
  (pems) => parentPort?.postMessage({ ok: true, pems }),
  (err: unknown) => parentPort?.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) }),
);
