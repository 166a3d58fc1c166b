// Shared setup for the delivery socket tests: a temp data dir with the real SqliteQueueStore, the
// test DNS server, a config pointing at both, a log capture, and helpers to queue messages and
// wait for recipient states (by polling the store — no fixed sleeps).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { DeliveryScheduler } from '../../src/delivery/index.js';
import type { DeliverySchedulerOptions } from '../../src/delivery/scheduler.js';
import type { MxResolver } from '../../src/delivery/resolver.js';
import { createLogger, type Logger } from '../../src/events/log.js';
import { newQueueId } from '../../src/message/ids.js';
import { SqliteQueueStore } from '../../src/store/sqlite/sqlite-store.js';
import type { MessageTransport, MessageView, RecipientState } from '../../src/store/store.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';

export interface LogEntry { event?: string; [k: string]: unknown }

export class ManualClock implements Clock {
  constructor(public ms = Date.now()) {}
  now() { return this.ms; }
  advance(ms: number) { this.ms += ms; }
}

export interface Fixture {
  dir: string;
  dns: DnsServer;
  store: SqliteQueueStore;
  config: Readonly<Config>;
  logs: LogEntry[];
  logger: Logger;
  scheduler: DeliveryScheduler;
  clock: Clock;
  close(): Promise<void>;
}

export interface FixtureOptions {
  /** delivery.port: the receivers' shared port. */
  port: number;
  overrides?: Record<string, unknown>;
  clock?: Clock;
  resolver?: MxResolver;
  dns?: DnsServer;
  /** More scheduler options (e.g. tlsOutcomes). */
  scheduler?: Partial<DeliverySchedulerOptions>;
}

/** Test defaults: fast retries without jitter, short timeouts, a quick poll. */
const DEFAULTS = {
  hostname: 'relay.test',
  'dns.timeout': '300ms',
  'delivery.retrySchedule': { initial: '200ms', factor: 1, max: '200ms', jitter: 0 },
  'delivery.pollInterval': '100ms',
  'delivery.connectTimeout': '3s',
  'delivery.commandTimeout': '5s',
  'delivery.idleConnectionTimeout': '2s',
  'delivery.delayWarning': false,
  'delivery.ipv6': true,
  'delivery.mxAddresses': 'any', // the receivers listen on 127.0.0.x (refused by default)
};

export async function createFixture(opts: FixtureOptions): Promise<Fixture> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-delivery-'));
  const dns = opts.dns ?? await startDnsServer();
  const config = loadConfig({
    env: {},
    overrides: { ...DEFAULTS, dataDir: dir, 'dns.servers': [`${dns.host}:${dns.port}`], 'delivery.port': opts.port, ...opts.overrides },
  });
  const logs: LogEntry[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l) as LogEntry); cb(); } });
  const logger = createLogger('debug', sink);
  const store = new SqliteQueueStore({ dataDir: dir, logger });
  await store.open();
  const clock = opts.clock ?? { now: () => Date.now() };
  const scheduler = new DeliveryScheduler({ config, store, logger, clock, nodeId: 'node-test', resolver: opts.resolver, random: () => 0.5, ...opts.scheduler });
  return {
    dir, dns, store, config, logs, logger, scheduler, clock,
    async close() {
      await scheduler.stop(1000);
      await store.close();
      if (!opts.dns) await dns.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

export const body = (subject: string, extra = '') => Buffer.from([
  'From: Alice <alice@sender.test>',
  'To: bob@example.test',
  `Subject: ${subject}`,
  'Message-ID: <' + subject.replace(/\W/g, '') + '@sender.test>',
  '',
  'Hello Bob.',
  '.a line starting with a dot',
  extra,
  '',
].join('\r\n'));

/** Stores a body and queues the message; returns its id. */
export async function enqueue(f: Fixture, m: {
  from: string; to: string[]; body?: Buffer; isBounce?: boolean; route?: 'relay' | 'local'; receivedAt?: number; transport?: MessageTransport;
}): Promise<string> {
  const id = newQueueId();
  const data = m.body ?? body(`test ${id}`);
  const w = f.store.createBody(id);
  await w.write(data);
  await w.finish();
  await f.store.put({
    id, mailFrom: m.from, recipients: m.to, size: w.bytesWritten, receivedAt: m.receivedAt ?? f.clock.now(),
    origin: { listener: 'submission', clientIp: '127.0.0.1', user: null }, isBounce: m.isBounce ?? false, route: m.route ?? 'relay',
    ...(m.transport ? { transport: m.transport } : {}),
  });
  f.scheduler.notify();
  return id;
}

/** Polls until every recipient of `id` is in one of `states`. */
export function waitForStates(f: Fixture, id: string, states: RecipientState[], timeoutMs = 10_000): Promise<MessageView> {
  return waitForMessage(f, id, (m) => m.recipients.every((r) => states.includes(r.state)), `states ${states.join('/')}`, timeoutMs);
}

/** Polls the store until message `id` satisfies `pred`. */
export async function waitForMessage(f: Fixture, id: string, pred: (m: MessageView) => boolean, what = 'condition', timeoutMs = 10_000): Promise<MessageView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await f.store.getMessage(id);
    if (m && pred(m)) return m;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(m?.recipients.map((r) => [r.address, r.state, r.attempts, r.lastResponse]))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Polls the captured logs for an entry matching `pred`. */
export async function waitForLog(f: Fixture, pred: (l: LogEntry) => boolean, timeoutMs = 10_000): Promise<LogEntry> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = f.logs.find(pred);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error('timed out waiting for a log entry');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** All messages the store holds (ids), e.g. to find generated DSNs. */
export async function bounceMessages(f: Fixture): Promise<MessageView[]> {
  const rows = await f.store.listRecipients({ includeFinal: true, limit: 1000 });
  const ids = [...new Set(rows.map((r) => r.messageId))];
  const views = await Promise.all(ids.map((id) => f.store.getMessage(id)));
  return views.filter((m): m is MessageView => m !== null && m.isBounce);
}
