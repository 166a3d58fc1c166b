// Benchmark: the store reads behind every dashboard page (issue 12: "each page's data loads in
// under 300 ms with 1,000,000 events and 100,000 queued messages") on a queue of 100,000 waiting
// messages over 5 accounts and 500 skewed recipient domains, and a history of 1,000,000 events
// (the 100,000 'accepted' events of those puts plus 900,000 appended over 30 days: deliveries,
// deferrals, bounces, opens, clicks, with their statistics counters), 100,000 suppressions of one
// account and 2,000 webhook attempts, SQLite and (with PL_BENCH_PG_URL) PostgreSQL. Per page, the
// reads its routes make (src/http/routes/): overview (stats over a day by hour and 30 days by day,
// breakdowns by domain, tag, stream, every account; queue overview; alerts), messages (search with
// each filter, the timeline), queue (overview, all accounts), suppressions (list, search, one
// address), webhooks (list, delivery history), accounts (list with usage). Median and p99 of 30
// runs each. Reference in the same invocation: the queue overview computed the way the CLI lists
// the queue (listRecipients of every waiting row, grouped in JavaScript).
//   npx tsc -p bench/tsconfig.json && PL_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres node dist/bench/dashboard-pages.js
// ROWS (default 100000) and EVENTS (default 1000000) change the sizes; STORES=sqlite|postgres runs one store only;
// PAGES=<regular expression> measures only the reads whose label matches.
// IN_FLIGHT (default 1000) jobs are claimed before the reads, so that some recipients are delivering
// (the overview reads those, not counters: issue 14).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createLogger } from '../src/events/log.js';
import { newQueueId } from '../src/message/ids.js';
import { SqliteQueueStore } from '../src/store/sqlite/sqlite-store.js';
import { PostgresQueueStore } from '../src/store/postgres/postgres-store.js';
import type { NewMessage, QueueStore } from '../src/store/store.js';
import type { EventType, MessageEvent } from '../src/store/platform-store.js';
import type { Suppression } from '../src/store/suppression-store.js';
import { windowsFor } from '../src/accounts/quota.js';

const ROWS = Number(process.env.ROWS ?? 100_000);
/** PAGES (a regular expression) measures only the reads whose label matches, e.g. PAGES=delivering. */
const PAGES = new RegExp(process.env.PAGES ?? '');
const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 1000);
const SUPPRESSIONS = 100_000;
const WEBHOOK_ATTEMPTS = 2_000;
const DAY = 86_400_000;
const TAGS = Array.from({ length: 20 }, (_, i) => `tag${i}`);
const RUNS = 30;
const ACCOUNTS = ['acme', 'beta', 'gamma', 'delta', 'eps'];
const logger = createLogger('silent');
const origin = { listener: 'submission', clientIp: '127.0.0.1', user: null };
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const domainOf = () => `d${Math.floor(rnd() ** 3 * 500)}.example`; // a few big domains, like real mail

async function fill(store: QueueStore): Promise<{ sample: string; t0: number }> {
  for (const a of ACCOUNTS) await store.addAccount({ name: a, createdAt: 1, limits: {} });
  for (const a of ACCOUNTS) await store.setAccountLimits(a, { perDay: 1_000_000, perMonth: 10_000_000 });
  const t0 = Date.now() - 86_400_000;
  let sample = '';
  for (let done = 0; done < ROWS;) {
    const batch: NewMessage[] = [];
    for (let i = 0; i < 1000 && done < ROWS; i++, done++) {
      const id = newQueueId();
      const w = store.createBody(id);
      await w.write(Buffer.from('Subject: b\r\n\r\nx\r\n'));
      await w.finish();
      const account = ACCOUNTS[done % ACCOUNTS.length]!;
      if (account === 'acme' && done > ROWS / 2 && !sample) sample = id;
      batch.push({ id, mailFrom: `news@${account}.example`, recipients: [`r${done}@${domainOf()}`], size: w.bytesWritten,
        receivedAt: t0 + done * 500, origin, isBounce: false, route: 'relay', subject: done % 1000 === 7 ? `Invoice ${done} overdue` : `Your order ${done} has shipped`, meta: { account, stream: 'broadcast', tags: [TAGS[done % TAGS.length]!], metadata: {} } });
    }
    await store.putMany(batch);
  }
  return { sample, t0 };
}

/** The rest of the history: EVENTS - ROWS events over 30 days (the puts wrote ROWS 'accepted'), with their counters. */
async function fillHistory(store: QueueStore, sample: string): Promise<void> {
  const TYPES: EventType[] = ['delivered', 'delivered', 'delivered', 'deferred', 'bounced', 'opened', 'clicked', 'accepted'];
  const end = Date.now();
  for (let n = 0; n < EVENTS - ROWS;) {
    const account = ACCOUNTS[Math.floor(rnd() * ACCOUNTS.length)]!;
    const batch: Omit<MessageEvent, 'id' | 'seq'>[] = [];
    for (let i = 0; i < 2000 && n < EVENTS - ROWS; i++, n++) {
      const type = TYPES[Math.floor(rnd() * TYPES.length)]!;
      const data: Record<string, unknown> = { stream: rnd() < 0.3 ? 'transactional' : 'broadcast', tags: rnd() < 0.5 ? [TAGS[Math.floor(rnd() * TAGS.length)]!] : [] };
      if (type === 'bounced') data.bounceType = rnd() < 0.5 ? 'hard' : 'soft';
      if (type === 'opened' || type === 'clicked') data.unique = rnd() < 0.6;
      batch.push({ at: end - Math.floor(rnd() * 30 * DAY), account, type, messageId: null, recipient: `u${Math.floor(rnd() * 1e6)}@${domainOf()}`, data });
    }
    await store.appendEvents(batch);
    if (n % 100_000 < 2000) while (await store.compactStats() > 0); // PostgreSQL folds at most 50,000 deltas a call
  }
  // The sample message's own later events (the timeline reads them with the accepted one).
  await store.appendEvents(['deferred', 'delivered', 'opened', 'clicked'].map((type, i) =>
    ({ at: end + i, account: 'acme', type: type as EventType, messageId: sample, recipient: 'r@d0.example', data: {} })));
  while (await store.compactStats() > 0);
}

async function fillSuppressionsAndWebhooks(store: QueueStore): Promise<void> {
  for (let done = 0; done < SUPPRESSIONS;) {
    const batch: Suppression[] = [];
    for (let i = 0; i < 5000 && done < SUPPRESSIONS; i++, done++) {
      batch.push({ account: 'acme', address: `user${done}@${domainOf()}`, scope: done % 3 ? 'all' : 'broadcast', reason: done % 2 ? 'hard-bounce' : 'unsubscribe',
        source: 'import', messageId: null, detail: null, createdAt: Date.now() - done });
    }
    await store.addSuppressions(batch);
  }
  for (const a of ACCOUNTS) {
    await store.addWebhook({ id: `wh_${a}`, account: a, url: `https://${a}.example/hook`, events: [], secret: 's', enabled: true, createdAt: 1, disabledAt: null, disabledReason: null });
  }
  for (let i = 0; i < WEBHOOK_ATTEMPTS; i++) {
    await store.recordWebhookAttempt({ webhookId: 'wh_acme', at: Date.now() - (WEBHOOK_ATTEMPTS - i) * 1000, eventIds: [], ok: i % 10 !== 0, status: i % 10 ? 200 : 500, error: null, durationMs: 20 }, null);
  }
}

async function time(name: string, fn: () => Promise<unknown>, runs = RUNS): Promise<string> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  t.sort((a, b) => a - b);
  return `  ${name}: median ${t[Math.floor(runs / 2)]!.toFixed(1)} ms, p99 ${t[runs - 1]!.toFixed(1)} ms`;
}

async function measure(name: string, store: QueueStore): Promise<void> {
  let start = Date.now();
  const { sample, t0 } = await fill(store);
  console.log(`${name}: ${ROWS} waiting messages (filled in ${((Date.now() - start) / 1000).toFixed(1)} s)`);
  // Claimed before the history's bounces trip circuit breakers (a claim would then hold the groups).
  const inFlight: Awaited<ReturnType<QueueStore['claimDue']>> = [];
  for (let got = -1; got !== 0 && inFlight.length < IN_FLIGHT;) { // 50 a claim, as the scheduler asks
    const jobs = await store.claimDue({ now: Date.now() + 1000, limit: Math.min(50, IN_FLIGHT - inFlight.length), leaseMs: 3_600_000, owner: 'bench' });
    got = jobs.length;
    inFlight.push(...jobs);
  }
  console.log(`${name}: ${inFlight.reduce((n, j) => n + j.recipients.length, 0)} recipients in flight (${inFlight.length} jobs claimed)`);
  start = Date.now();
  await fillHistory(store, sample);
  await fillSuppressionsAndWebhooks(store);
  console.log(`${name}: ${EVENTS} events, ${SUPPRESSIONS} suppressions, ${WEBHOOK_ATTEMPTS} webhook attempts (filled in ${((Date.now() - start) / 1000).toFixed(1)} s)`);
  const now = Date.now();
  const stats = (account: string | null, from: number, groupBy: 'hour' | 'day' | 'domain' | 'tag' | 'stream' | 'account' | 'total') =>
    () => store.readStats({ account, from, to: now, groupBy });
  const pages: [string, () => Promise<unknown>][] = [
    ['overview: stats, last 24 h by hour', stats('acme', now - DAY, 'hour')],
    ['overview: stats, 30 days by day', stats('acme', now - 30 * DAY, 'day')],
    ['overview: stats, 30 days total', stats('acme', now - 30 * DAY, 'total')],
    ['overview: breakdown by domain (and provider), 7 days', stats('acme', now - 7 * DAY, 'domain')],
    ['overview: breakdown by tag, 7 days', stats('acme', now - 7 * DAY, 'tag')],
    ['overview: breakdown by stream, 7 days', stats('acme', now - 7 * DAY, 'stream')],
    ['overview: every account by day, 30 days (operator)', stats(null, now - 30 * DAY, 'day')],
    ['overview: by account, 30 days (operator)', stats(null, now - 30 * DAY, 'account')],
    ['overview + queue: queue overview, one account (GET /v1/queue)', () => store.queueOverview('acme', 50)],
    ['queue: queue overview, all accounts (?account=*)', () => store.queueOverview(null, 50)],
    ['overview: alerts (breakers, webhooks + last attempt, domains)', async () => {
      await store.listBreakers({ open: true, limit: 100 });
      for (const w of await store.listWebhooks('acme')) await store.listWebhookAttempts('acme', w.id, 1);
      await store.listDomains('acme');
    }],
    ['messages: search, first page of 50', () => store.searchMessages({ account: 'acme', limit: 50 })],
    ['messages: search, a time range (until), 50', () => store.searchMessages({ account: 'acme', limit: 50, since: t0, before: { receivedAt: t0 + (ROWS / 2) * 500, id: '' } })],
    ['messages: search by recipient domain', () => store.searchMessages({ account: 'acme', recipient: 'd0.example', limit: 50 })],
    ['messages: search by recipient address', () => store.searchMessages({ account: 'acme', recipient: `r${ROWS - 5}@d0.example`, limit: 50 })],
    ['messages: search by sender', () => store.searchMessages({ account: 'acme', from: 'news@acme.example', limit: 50 })],
    ['messages: search by tag', () => store.searchMessages({ account: 'acme', tag: 'tag3', limit: 50 })],
    ['messages: search by status (deferred: none)', () => store.searchMessages({ account: 'acme', status: 'deferred', limit: 50 })],
    ['messages: search by status (queued)', () => store.searchMessages({ account: 'acme', status: 'queued', limit: 50 })],
    ['messages: search by status (delivering)', () => store.searchMessages({ account: 'acme', status: 'delivering', limit: 50 })],
    ['messages: search by subject, common (?subject=ORDER)', () => store.searchMessages({ account: 'acme', subject: 'ORDER', limit: 50 })],
    ['messages: search by subject, rare: scans the account (?subject=overdue)', () => store.searchMessages({ account: 'acme', subject: 'overdue', limit: 50 })],
    ['messages: search by subject, rare, last hour only (since)', () => store.searchMessages({ account: 'acme', subject: 'overdue', since: t0 + ROWS * 500 - 3_600_000, limit: 50 })],
    ['messages: timeline (getMessageMeta + getMessage + listEvents)', async () => {
      await store.getMessageMeta(sample);
      await Promise.all([store.getMessage(sample), store.listEvents({ account: 'acme', messageId: sample, limit: 1000 })]);
    }],
    ['suppressions: list, first page of 50', () => store.listSuppressions({ account: 'acme', limit: 50 })],
    ['suppressions: list, a page deep in the list', () => store.listSuppressions({ account: 'acme', limit: 50, after: { address: 'user5', scope: 'all' } })],
    ['suppressions: search (substring)', () => store.listSuppressions({ account: 'acme', search: '999@', limit: 50 })],
    ['suppressions: search, no match (scans the account)', () => store.listSuppressions({ account: 'acme', search: 'nobody-at-all', limit: 50 })],
    ['suppressions: filter by reason', () => store.listSuppressions({ account: 'acme', reason: 'hard-bounce', limit: 50 })],
    ['suppressions: one address', () => store.listSuppressions({ account: 'acme', address: 'user777@d0.example' })],
    ['webhooks: list', () => store.listWebhooks('acme')],
    ['webhooks: delivery history, 100 attempts', () => store.listWebhookAttempts('acme', 'wh_acme', 100)],
    ['accounts: list with usage (operator)', async () => {
      for (const a of await store.listAccounts()) {
        const windows = windowsFor(`account:${a.name}`, a.limits, now);
        if (windows.length) await store.quotaUsage(windows);
      }
    }],
  ];
  for (const [label, fn] of pages) if (PAGES.test(label)) console.log(await time(label, fn));
  if (PAGES.test('reference')) console.log(await time('reference: the same overview from listRecipients, grouped in JS (3 runs)', async () => {
    const byDomain = new Map<string, number>();
    for (const r of await store.listRecipients({ limit: ROWS })) byDomain.set(r.address.split('@')[1]!, (byDomain.get(r.address.split('@')[1]!) ?? 0) + 1);
    return byDomain;
  }, 3));
}

const STORES = process.env.STORES ?? 'both';
if (STORES !== 'postgres') {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-bench-'));
  const store = new SqliteQueueStore({ dataDir, logger });
  await store.open();
  try { await measure('sqlite', store); } finally { await store.close(); await fs.rm(dataDir, { recursive: true, force: true }); }
}

const pgUrl = process.env.PL_BENCH_PG_URL;
if (pgUrl && STORES !== 'sqlite') {
  const db = `postlane_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  const u = new URL(pgUrl);
  u.pathname = `/${db}`;
  const store = new PostgresQueueStore({ url: u.href, logger, poolSize: 4 });
  await store.open();
  try { await measure('postgres', store); } finally {
    await store.close();
    await admin.query(`DROP DATABASE ${db} WITH (FORCE)`);
    await admin.end();
  }
}
