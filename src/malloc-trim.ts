// Owns the relay's calls to glibc's malloc_trim(0) (issue 14: peak memory under load). glibc keeps
// memory the relay has freed — socket reads, 100 KB bodies, V8's off-heap buffers, the store
// thread's allocations — resident in its arenas; free() gives back only the top of an arena, never
// the holes inside it (bench/README.md, twentieth session: 2.5–6 MB under load). malloc_trim gives
// back every whole free page of every arena. Node has no binding for it: the optional package
// postlane-malloc-trim (native/malloc-trim, N-API, built by node-gyp when npm installs it) runs it on
// libuv's thread pool. Where that package is absent (no compiler at install, musl, macOS) the relay
// runs as before: nothing here is needed for correctness.
//
// When: on a timer, if the process (every thread) used at least `minCpuMs` of CPU since the last
// trim — memory is freed only by work; an idle relay is not woken to walk its arenas. So under load
// a trim every `intervalMs`, once more after the load ends, then none while idle.
import { createRequire } from 'node:module';
import type { Logger } from './events/log.js';

export interface TrimResult { released: boolean; micros: number }
/** One malloc_trim(0), off the main thread. */
export type TrimFn = () => Promise<TrimResult>;

export const TRIM_PACKAGE = 'postlane-malloc-trim';
/** Between two looks at the CPU used (and so between two trims at most). */
export const TRIM_INTERVAL_MS = 1_000;
/** CPU (ms, all threads) since the last trim below which a look does not trim: idle. */
export const TRIM_MIN_CPU_MS = 20;

/** The addon's trim, or null (not installed, not built, not glibc). Never throws. */
export function loadMallocTrim(): TrimFn | null {
  try {
    const addon = createRequire(import.meta.url)(TRIM_PACKAGE) as { supported?: boolean; trim?: TrimFn };
    return addon.supported === true && typeof addon.trim === 'function' ? addon.trim : null;
  } catch {
    return null;
  }
}

/** Decides, at each look, whether to trim: the pure part of the schedule. CPU in microseconds, as process.cpuUsage(). */
export class TrimSchedule {
  #cpuAtLastTrim: number;
  #inFlight = false;

  constructor(cpuNowMicros: number, readonly minCpuMs = TRIM_MIN_CPU_MS) {
    this.#cpuAtLastTrim = cpuNowMicros;
  }

  /** True: trim now (and `finished()` when it is done). False while one is in flight or the process has been idle. */
  due(cpuNowMicros: number): boolean {
    if (this.#inFlight || cpuNowMicros - this.#cpuAtLastTrim < this.minCpuMs * 1000) return false;
    this.#inFlight = true;
    this.#cpuAtLastTrim = cpuNowMicros;
    return true;
  }

  finished(): void {
    this.#inFlight = false;
  }
}

export interface MallocTrimOptions {
  logger: Logger;
  /** Default: the addon's (loadMallocTrim); null: do nothing. */
  trim?: TrimFn | null;
  intervalMs?: number;
  minCpuMs?: number;
  /** CPU used by the process so far, µs (default: process.cpuUsage(), user + system). */
  cpuMicros?: () => number;
}

export interface MallocTrimmer {
  /** False when there is nothing to call (the addon is absent). */
  readonly active: boolean;
  stop(): void;
}

/** Starts the timer (unref'd: it never keeps the process alive); a no-op without the addon. */
export function startMallocTrim(opts: MallocTrimOptions): MallocTrimmer {
  const trim = opts.trim === undefined ? loadMallocTrim() : opts.trim;
  const { logger } = opts;
  if (trim === null) {
    logger.debug({ event: 'memory.trim_unavailable', package: TRIM_PACKAGE }, 'malloc_trim is not available (optional package not built, or not glibc): freed memory stays with the allocator');
    return { active: false, stop() {} };
  }
  const cpuMicros = opts.cpuMicros ?? (() => { const u = process.cpuUsage(); return u.user + u.system; });
  const schedule = new TrimSchedule(cpuMicros(), opts.minCpuMs);
  const look = () => {
    if (!schedule.due(cpuMicros())) return;
    trim().then(
      (r) => logger.debug({ event: 'memory.trimmed', released: r.released, micros: Math.round(r.micros) }, 'malloc_trim'),
      (err: unknown) => {
        logger.warn({ event: 'memory.trim_failed', err: (err as Error)?.message }, 'malloc_trim failed; not calling it again');
        clearInterval(timer);
      },
    ).finally(() => schedule.finished());
  };
  const timer = setInterval(look, opts.intervalMs ?? TRIM_INTERVAL_MS);
  timer.unref();
  return { active: true, stop: () => clearInterval(timer) };
}
