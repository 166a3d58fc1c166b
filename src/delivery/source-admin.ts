// Owns the operator's view and live changes of the egress sources, shared by `postlane sources`
// and /v1/sources: the sources as delivery sees them (config + stored state + run-time additions)
// with today's warmup cap and counts per provider, adding a source at run time (validated like
// the config: name, address of this machine, EHLO name, warmup schedule and start day), and
// drain / pause / resume (stored, so every node sees it within egress.refreshInterval).
import net from 'node:net';
import { isUnspecified, type Config } from '../config/schema.js';
import { capOf, STOCK_SCHEDULE, utcDay, warmupDay } from '../config/warmup-schedules.js';
import { NotFoundError, RelayError } from '../errors.js';
import type { SourceState, SourceStore } from '../store/source-store.js';
import { mergeSources, type EgressSource } from './egress.js';
import { bindProblem } from './source-check.js';

export type SourcesConfig = Pick<Config, 'egress' | 'hostname'>;

export interface SourceView {
  name: string; address: string | null; ehlo: string; pool: string; state: SourceState; origin: EgressSource['origin'];
  /** null: warm. `cap`: messages per provider today (null once past the schedule); `day`: day of the warmup. */
  warmup: { schedule: string; start: string; day: number; cap: number | null } | null;
  /** Messages counted today per provider (warming sources only). */
  today: Record<string, number>;
}

export async function listSourceViews(config: SourcesConfig, store: SourceStore, now: number): Promise<SourceView[]> {
  const [stored, counts] = await Promise.all([store.listSources(), store.readWarmup(utcDay(now))]);
  return mergeSources(config, stored).map((s) => {
    const today: Record<string, number> = {};
    for (const c of counts) if (c.source === s.name) today[c.provider] = c.n;
    const schedule = s.warmup?.schedule === 'stock' ? STOCK_SCHEDULE : config.egress.warmupSchedules[s.warmup?.schedule ?? ''] ?? STOCK_SCHEDULE;
    const warmup = s.warmup ? { ...s.warmup, day: warmupDay(s.warmup.start, now), cap: capOf(schedule, warmupDay(s.warmup.start, now)) } : null;
    return { name: s.name, address: s.address, ehlo: s.ehlo, pool: s.pool, state: s.state, origin: s.origin, warmup, today };
  });
}

export interface NewSourceInput { name: string; address: string; ehlo: string; pool?: string; warmup?: { schedule?: string; start: string } | null }

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/i;
const HOST = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const usage = (message: string) => new RelayError('ERR_USAGE', message);

/** Checks a run-time source like the config would, plus that this node can bind its address (unless `force`). */
export async function validateNewSource(config: SourcesConfig, input: NewSourceInput, force: boolean): Promise<void> {
  if (!NAME.test(input.name)) throw usage(`name: expected letters, digits, - and _ (at most 63), got "${input.name}"`);
  if (net.isIP(input.address) === 0) throw usage(`address: expected an IPv4 or IPv6 address, got "${input.address}"`);
  if (isUnspecified(input.address)) throw usage(`address: "${input.address}" lets the system pick; name one address of this machine`);
  if (!HOST.test(input.ehlo)) throw usage(`ehlo: expected a host name like "mta1.example.com", got "${input.ehlo}"`);
  if (input.pool !== undefined && !NAME.test(input.pool)) throw usage(`pool: expected letters, digits, - and _, got "${input.pool}"`);
  const w = input.warmup;
  if (w) {
    const schedule = w.schedule ?? 'stock';
    if (schedule !== 'stock' && !(schedule in config.egress.warmupSchedules)) throw usage(`warmup schedule: no schedule "${schedule}" ("stock" or one of egress.warmupSchedules)`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(w.start) || Number.isNaN(Date.parse(`${w.start}T00:00:00Z`)) || !new Date(`${w.start}T00:00:00Z`).toISOString().startsWith(w.start)) {
      throw usage(`warmup start: expected a calendar day like "2026-12-01" (UTC), got "${w.start}"`);
    }
  }
  if (config.egress.sources.some((s) => s.name === input.name)) throw usage(`name: "${input.name}" is a source of the config`);
  if (config.egress.sources.some((s) => s.address === input.address)) throw usage(`address: ${input.address} is the address of a source of the config`);
  if (!force) {
    const problem = await bindProblem(input.address);
    if (problem) throw usage(`address: ${input.address} is ${problem.startsWith('not') ? problem : `unusable here: ${problem}`}; add it to an interface first (or force, if another node has it)`);
  }
}

/** Adds the source (state active); ERR_SOURCE_EXISTS when the name is taken. */
export async function addSource(config: SourcesConfig, store: SourceStore, input: NewSourceInput, opts: { force: boolean; now: number }): Promise<SourceView> {
  await validateNewSource(config, input, opts.force);
  const added = await store.addSource({
    name: input.name, address: input.address, ehlo: input.ehlo.toLowerCase(), pool: input.pool ?? config.egress.defaultPool,
    warmupSchedule: input.warmup ? input.warmup.schedule ?? 'stock' : null, warmupStart: input.warmup?.start ?? null,
  }, opts.now);
  if (!added) throw new RelayError('ERR_SOURCE_EXISTS', `source "${input.name}" exists already`);
  return (await listSourceViews(config, store, opts.now)).find((s) => s.name === input.name)!;
}

/** Drains, pauses or resumes a known source (config, run-time, or the implicit 'default'). */
export async function setSourceState(config: SourcesConfig, store: SourceStore, name: string, state: SourceState, now: number): Promise<SourceView> {
  const known = (await listSourceViews(config, store, now)).find((s) => s.name === name);
  if (!known) throw new NotFoundError(`source "${name}"`);
  await store.setSourceState(name, state, now);
  return { ...known, state };
}
