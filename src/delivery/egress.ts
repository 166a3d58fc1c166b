// Owns the choice of egress source for each delivery attempt: which pool sends a job (egress.routes
// by account, stream, sending domain; else egress.defaultPool), and which active source of that
// pool takes it, in turn, where a warming source takes a message only while its warmup cap for the
// recipient's mailbox provider that day holds (counted in the store, so across nodes). A message a
// capped source cannot take overflows to another source of the pool when the pool allows it;
// otherwise (or when no source is active) the job waits: the caller postpones it with no attempt
// counted, never a bounce. With no egress.sources configured and none added at run time, every
// job goes through the implicit source 'default' (no bind address, the hostname as EHLO), as ever.
// The live state (added, drained, paused) is re-read from the store every egress.refreshInterval.
import net from 'node:net';
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { capOf, DAY_MS, STOCK_SCHEDULE, utcDay, warmupDay, type WarmupSchedule } from '../config/warmup-schedules.js';
import type { Logger } from '../events/log.js';
import type { SourceState, SourceStore, StoredSource } from '../store/source-store.js';
import type { DeliveryJob } from '../store/store.js';
import { providerOf } from './providers.js';
import { bindProblem } from './source-check.js';

/** One egress source as delivery uses it. `address` null: the system picks (the implicit source). */
export interface EgressSource {
  name: string;
  address: string | null;
  ehlo: string;
  pool: string;
  warmup: { schedule: string; start: string } | null;
  state: SourceState;
  /** Where it is defined. */
  origin: 'config' | 'added' | 'implicit';
}

/** What a job gets: a source to send through, or a time to wait until (and why). */
export type EgressChoice = { source: EgressSource } | { wait: { until: number; reason: string } };

export const IMPLICIT_SOURCE = 'default';

/** The mailbox provider of a recipient domain, for warmup caps: the one place egress asks (shaping will refine it by MX). */
export const providerFor = (domain: string): string => providerOf(domain);

export interface EgressOptions {
  config: Pick<Config, 'egress' | 'hostname' | 'delivery'>;
  store: SourceStore;
  clock: Clock;
  logger: Logger;
  /** Why an address cannot be bound here (null: it can); run-time sources that cannot are skipped here. Default: source-check.ts bindProblem. */
  bindProblem?: (address: string) => Promise<string | null>;
  /** The mailbox provider of a recipient domain (the scheduler's MX rollup); default: providerFor. */
  providerOf?: (domain: string) => string;
}

/** Config sources with their stored state, then run-time sources (a config name wins). */
export function mergeSources(config: Pick<Config, 'egress' | 'hostname'>, stored: readonly StoredSource[]): EgressSource[] {
  const byName = new Map(stored.map((s) => [s.name, s]));
  const out: EgressSource[] = config.egress.sources.map((s) => ({
    name: s.name, address: s.address, ehlo: s.ehlo, pool: s.pool, warmup: s.warmup, state: byName.get(s.name)?.state ?? 'active', origin: 'config',
  }));
  const names = new Set(out.map((s) => s.name));
  for (const s of stored) {
    if (names.has(s.name) || s.address === null || s.ehlo === null) continue;
    out.push({
      name: s.name, address: s.address, ehlo: s.ehlo, pool: s.pool ?? config.egress.defaultPool, state: s.state, origin: 'added',
      warmup: s.warmupSchedule && s.warmupStart ? { schedule: s.warmupSchedule, start: s.warmupStart } : null,
    });
  }
  if (out.length === 0) {
    out.push({ name: IMPLICIT_SOURCE, address: null, ehlo: config.hostname, pool: config.egress.defaultPool, warmup: null, state: byName.get(IMPLICIT_SOURCE)?.state ?? 'active', origin: 'implicit' });
  }
  return out;
}

/** The pool of a job: the first route whose every given field matches; else the default pool. */
export function poolOf(egress: Config['egress'], job: Pick<DeliveryJob, 'account' | 'stream' | 'mailFrom'>): string {
  const domain = job.mailFrom.slice(job.mailFrom.lastIndexOf('@') + 1).toLowerCase();
  const hit = egress.routes.find((r) => (r.account === undefined || r.account === job.account)
    && (r.stream === undefined || r.stream === job.stream)
    && (r.sendingDomain === undefined || r.sendingDomain === domain));
  return hit?.pool ?? egress.defaultPool;
}

/** Whether a source can reach a remote address (same address family, or no bind address). */
export const canReach = (s: EgressSource, remote: string): boolean =>
  s.address === null || net.isIPv6(s.address) === net.isIPv6(remote);

export class Egress {
  #sources: EgressSource[];
  #refreshedAt = -Infinity;
  #refreshing: Promise<void> | null = null;
  readonly #turn = new Map<string, number>();
  /** The source each job was given its turn on (sourceFor), tried first by pick: shaping counts the job against it. */
  readonly #preferred = new WeakMap<DeliveryJob, string>();
  /** Run-time sources (name|address) and whether this node can bind their address. */
  readonly #bindable = new Map<string, boolean>();

  constructor(private readonly o: EgressOptions) {
    this.#sources = mergeSources(o.config, []);
  }

  /** The sources as last read (config + store). */
  get sources(): readonly EgressSource[] { return this.#sources; }

  /** Re-reads the live state now (start, and after a CLI/API change on this node). */
  async refresh(): Promise<void> {
    this.#refreshing ??= this.o.store.listSources().then(async (stored) => {
      const sources = mergeSources(this.o.config, stored);
      for (const s of sources) if (s.origin === 'added') await this.#checkBind(s);
      this.#sources = sources;
      this.#refreshedAt = this.o.clock.now();
    }).catch((err: unknown) => {
      // Keep the last known state: the store is unavailable, and the claim will notice that itself.
      this.o.logger.warn({ event: 'egress.refresh_failed', err }, 'could not read the egress sources; keeping the last known state');
    }).finally(() => { this.#refreshing = null; });
    await this.#refreshing;
  }

  /**
   * The source a job will leave from if it may (its pool's next active source in turn), without
   * asking the store: traffic shaping keys its throttles by it before the job starts. Fixed for the
   * job's life; pick() tries it first. 'default' when the pool has no active source.
   */
  sourceFor(job: DeliveryJob): string {
    const known = this.#preferred.get(job);
    if (known !== undefined) return known;
    const pool = poolOf(this.o.config.egress, job);
    const active = this.#activeIn(pool);
    const name = active.length === 0 ? IMPLICIT_SOURCE : active[this.#nextTurn(pool, active.length)]!.name;
    this.#preferred.set(job, name);
    return name;
  }

  async pick(job: DeliveryJob): Promise<EgressChoice> {
    if (this.o.clock.now() - this.#refreshedAt >= this.o.config.egress.refreshInterval) await this.refresh();
    const pool = poolOf(this.o.config.egress, job);
    const active = this.#activeIn(pool);
    const now = this.o.clock.now();
    if (active.length === 0) {
      return { wait: { until: now + this.o.config.delivery.retrySchedule.initial, reason: `no active egress source in pool ${pool}` } };
    }
    const provider = (this.o.providerOf ?? providerFor)(job.domain);
    const overflow = this.o.config.egress.pools.find((p) => p.name === pool)?.overflow ?? true;
    const preferred = active.findIndex((s) => s.name === this.#preferred.get(job));
    const start = preferred >= 0 ? preferred : this.#nextTurn(pool, active.length);
    for (let i = 0; i < active.length; i++) {
      const s = active[(start + i) % active.length]!;
      if (await this.#takes(s, provider, now)) return { source: s };
      if (!overflow) break;
    }
    const until = (utcDay(now) + 1) * DAY_MS;
    return { wait: { until, reason: `warmup cap for ${provider} reached in pool ${pool}` } };
  }

  /** Whether `s` may send one more message to `provider` today (counted when it may). */
  async #takes(s: EgressSource, provider: string, now: number): Promise<boolean> {
    if (!s.warmup) return true;
    const cap = capOf(this.#schedule(s.warmup.schedule), warmupDay(s.warmup.start, now));
    if (cap === null) return true;
    return this.o.store.takeWarmup(s.name, provider, utcDay(now), cap);
  }

  #schedule(name: string): WarmupSchedule {
    return name === 'stock' ? STOCK_SCHEDULE : this.o.config.egress.warmupSchedules[name] ?? STOCK_SCHEDULE;
  }

  #activeIn(pool: string): EgressSource[] {
    return this.#sources.filter((s) => s.pool === pool && s.state === 'active' && this.#usable(s));
  }

  #nextTurn(pool: string, n: number): number {
    const t = this.#turn.get(pool) ?? 0;
    this.#turn.set(pool, (t + 1) % Number.MAX_SAFE_INTEGER);
    return t % n;
  }

  #usable(s: EgressSource): boolean {
    return s.origin !== 'added' || this.#bindable.get(`${s.name}|${s.address}`) === true;
  }

  async #checkBind(s: EgressSource): Promise<void> {
    const key = `${s.name}|${s.address}`;
    if (this.#bindable.has(key)) return;
    const problem = await (this.o.bindProblem ?? bindProblem)(s.address!);
    this.#bindable.set(key, problem === null);
    if (problem) this.o.logger.warn({ event: 'egress.source_unusable', source: s.name, address: s.address, problem }, 'egress source added at run time cannot be used on this node; skipped here');
  }
}
