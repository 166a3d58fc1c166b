// THROWAWAY trace (helper wal15): per-request timestamps of the SQLite worker's round, written under PLTRACE_DIR.
import { appendFileSync, openSync, readSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
export const TR = process.env.PLTRACE_DIR;
export const now = (): number => performance.timeOrigin + performance.now();
const bufs = new Map<string, string[]>();
export function rec(file: string, row: unknown): void {
  let b = bufs.get(file);
  if (!b) { b = []; bufs.set(file, b); }
  b.push(JSON.stringify(row));
}
export const tw: Record<string, number> = {};
export const winc = (k: string, n = 1): void => { tw[k] = (tw[k] ?? 0) + n; };
export function startFlush(name: string, extra?: () => Record<string, unknown>): void {
  if (!TR) return;
  let elu = performance.eventLoopUtilization();
  const t0 = Date.now();
  const flush = (): void => {
    const e = performance.eventLoopUtilization(elu); elu = performance.eventLoopUtilization();
    appendFileSync(`${TR}/${name}.jsonl`, JSON.stringify({ t: Date.now() - t0, T: Date.now(), elu: Math.round(e.utilization * 1000) / 1000, ...tw, ...(extra ? extra() : {}) }) + '\n');
    for (const [f, b] of bufs) { if (b.length) { appendFileSync(`${TR}/${f}.jsonl`, b.join('\n') + '\n'); b.length = 0; } }
  };
  setInterval(flush, 100).unref();
  process.on('exit', flush);
}
/** The WAL-index's mxFrame (offset 16) and nBackfill (offset 96), read from the -shm file. */
let shmFd: number | null = null;
const shmBuf = Buffer.alloc(104);
export function shm(dbPath: string): [number, number] {
  try {
    shmFd ??= openSync(`${dbPath}-shm`, 'r');
    readSync(shmFd, shmBuf, 0, 104, 0);
    return [shmBuf.readUInt32LE(16), shmBuf.readUInt32LE(96)];
  } catch { return [-1, -1]; }
}
