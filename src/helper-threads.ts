// V8's platform threads (concurrent marking, TurboFan, parallel scavenge helpers) at a lower CPU priority than the
// threads that serve requests. On a 2-core machine the relay's main thread, its SQLite thread, libuv's fsync and a
// mark-compact's concurrent marking all want a core at once; the scheduler then shares the cores evenly, and the main
// thread waited in the run queue about as long as it ran in the open-loop API runs with a tail (bench/README.md,
// twenty-fifth session, api25: p99 episodes of 60-150 ms, each in a mark-compact cycle, 50 requests queued). Niced,
// the helpers still get every idle cycle; under contention the request path goes first (api25: warm open-loop
// p99 at 1,000 msg/s 0.63-0.70x in 3 pairs).
//
// Linux only (a thread's nice value is its own there: setpriority(PRIO_PROCESS, tid)). Node has no thread names, so
// the helpers are found by their order: Node's platform starts, before anything else runs, its delayed-task thread
// and then the `--v8-pool-size` (default 4) workers, so they are the 3rd to 6th of the process's tids in ascending
// order; libuv's pool, the database thread and any Worker come later. A wrong guess costs a thread some priority, nothing else.
import { readdirSync } from 'node:fs';
import os from 'node:os';

/** How much lower than the main thread the helpers run (nice +10: about a tenth of a nice-0 thread's share). */
export const HELPER_NICE_DELTA = 10;

/**
 * The tids of V8's platform workers among `tids` (this process's threads), by Node's start order: thread ids are
 * given in creation order (system-wide: another process's may fall between two of ours, so ranks, not pid + k).
 */
export function v8HelperTids(pid: number, tids: readonly number[], poolSize: number): number[] {
  const sorted = [...tids].sort((a, b) => a - b);
  // [0]: the main thread (the process's id); [1]: the platform's delayed-task scheduler (it only posts tasks); then the workers
  if (sorted[0] !== pid || sorted.length < 2 + poolSize) return []; // not Node's usual layout (e.g. the tids wrapped): leave every thread alone
  return sorted.slice(2, 2 + poolSize);
}

/** The V8 pool's size: `--v8-pool-size=N` in `execArgv` (0 or absent: Node's default, 4). */
export function v8PoolSize(execArgv: readonly string[]): number {
  const flag = [...execArgv].reverse().find((a) => a.startsWith('--v8-pool-size='));
  const n = flag ? Number(flag.slice('--v8-pool-size='.length)) : 0;
  return Number.isInteger(n) && n > 0 ? n : 4;
}

/** Lowers V8's platform workers' priority (HELPER_NICE_DELTA below the main thread's); the tids changed. */
export function lowerV8HelperPriority(): number[] {
  if (process.platform !== 'linux') return [];
  try {
    const tids = readdirSync('/proc/self/task').map(Number);
    const base = os.getPriority(process.pid);
    const nice = Math.min(19, base + HELPER_NICE_DELTA);
    const done: number[] = [];
    for (const tid of v8HelperTids(process.pid, tids, v8PoolSize(process.execArgv))) {
      try { os.setPriority(tid, nice); done.push(tid); } catch { /* the thread ended, or not ours to change */ }
    }
    return done;
  } catch {
    return []; // no /proc: nothing changed
  }
}
