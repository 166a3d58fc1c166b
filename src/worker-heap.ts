// A worker thread with a smaller young generation than the main thread's.
import v8 from 'node:v8';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The semi-space (MB) of the database thread's isolate. Its young generation is two semi-spaces,
 * both committed once it has grown (the launcher's 2 MB: 4 MB, held for the relay's life). The
 * thread allocates little JavaScript per request (rows, answers), so 1 MB costs it more frequent
 * but small scavenges and takes 2 MB off every workload's peak (bench/README.md, twentieth session).
 */
export const WORKER_SEMI_SPACE_MB = 1;

/**
 * The `--max-semi-space-size` this process was started with (MB; the launcher's first line, a
 * `node` flag, or NODE_OPTIONS, the command line's winning), or null when none was given.
 */
export function semiSpaceFlagMb(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): number | null {
  let mb: number | null = null;
  for (const arg of [...nodeOptions.split(/\s+/), ...execArgv]) {
    const m = /^--max[-_]semi[-_]space[-_]size=(\d+)$/.exec(arg);
    if (m) mb = Number(m[1]);
  }
  return mb;
}

/**
 * `new Worker(url, options)` whose isolate gets a semi-space of `semiSpaceMb` when the process runs
 * with a larger `--max-semi-space-size`. V8 applies that flag after a Worker's `resourceLimits`
 * (maxYoungGenerationSizeMb is ignored while it is set: bench/README.md, eighth session), and
 * sizes an isolate's heap when the isolate is made, on the new thread: so the flag is lowered
 * here and given its value back once the thread is online (or has exited without). The main
 * isolate's heap, sized at its start, is untouched. Without the flag (Node's defaults: a
 * machine with memory to spare, docs/performance.md) the worker is made as asked.
 */
export function startWorker(url: URL | string, options: WorkerOptions, semiSpaceMb = WORKER_SEMI_SPACE_MB): Worker {
  const flag = semiSpaceFlagMb();
  if (flag === null || flag <= semiSpaceMb) return new Worker(url, options);
  v8.setFlagsFromString(`--max-semi-space-size=${semiSpaceMb}`);
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    v8.setFlagsFromString(`--max-semi-space-size=${flag}`);
  };
  let worker: Worker;
  try {
    worker = new Worker(url, options);
  } catch (err) {
    restore();
    throw err;
  }
  worker.once('online', restore);
  worker.once('exit', restore);
  return worker;
}
