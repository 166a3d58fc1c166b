// TLS reporting across nodes on one PostgreSQL database: two stores (two nodes) flush counters of
// the same day and domain (added up, not overwritten), then both run the daily report job at the
// same moment: exactly one report is queued for the domain and day (the claim row's unique key).
// A claim whose owner died is taken over once its lease runs out, never before. The same claim
// semantics are checked on SQLite (the statements are shared, the engines differ).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { createResolver } from '../../src/delivery/resolver.js';
import { createLogger } from '../../src/events/log.js';
import { PostgresQueueStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteQueueStore } from '../../src/store/sqlite/sqlite-store.js';
import type { QueueStore } from '../../src/store/store.js';
import { DAY_MS, dayOf, stsPolicy, TlsOutcomeRecorder } from '../../src/tlsrpt/outcomes.js';
import { TlsReporter } from '../../src/tlsrpt/reporter.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { freshDatabase } from '../helpers/postgres.js';
import { ManualClock } from '../delivery/fixture.js';

const logger = createLogger('silent');
const policy = stsPolicy({ mode: 'enforce', mx: ['mx.example.test'], maxAge: 86_400 });

/** Claims: one owner at a time; finished is final; an expired unfinished claim is taken over. */
async function checkClaims(store: QueueStore): Promise<void> {
  const day = dayOf(Date.UTC(2026, 0, 10));
  const claim = (owner: string, now: number) => store.claimTlsReport({ domain: 'claims.test', day, owner, now, leaseMs: 60_000 });
  assert.deepEqual(await claim('a', 1_000), { attempts: 1, detail: '' });
  assert.equal(await claim('b', 2_000), null, 'a\'s lease still runs');
  assert.deepEqual(await claim('b', 61_000), { attempts: 2, detail: '' }, 'a died: b takes over once the lease ran out');
  await store.finishTlsReport('claims.test', day, 'a', 'sent', 'stale owner');
  assert.equal(await claim('a', 62_000), null, 'the stale owner cannot finish nor reclaim it');
  await store.finishTlsReport('claims.test', day, 'b', 'sent', '{"done":[]}');
  assert.equal(await claim('c', 10_000_000), null, 'a finished report is never claimed again');
  const rows = await store.listTlsReports(10);
  assert.deepEqual(rows.map((r) => [r.domain, r.owner, r.state, r.attempts, r.detail]), [['claims.test', 'b', 'sent', 2, '{"done":[]}']]);
}

describe('TLS reports on several nodes (PostgreSQL)', () => {
  let dns: DnsServer;
  before(async () => {
    dns = await startDnsServer();
    dns.setZone({
      '_smtp._tls.example.test': { TXT: ['v=TLSRPTv1; rua=mailto:reports@reports.test'] },
      '_smtp._tls.other.test': { TXT: ['v=TLSRPTv1; rua=mailto:reports@reports.test'] },
    });
  });
  after(async () => { await dns.close(); });

  it('counters from two nodes add up and exactly one node sends each report', async (t) => {
    const url = await freshDatabase(t, 'postlane_tlsrpt');
    const clock = new ManualClock(Date.UTC(2026, 2, 3, 12));
    const day = dayOf(clock.now());
    const nodes = await Promise.all(['node-a', 'node-b'].map(async (nodeId) => {
      const store = new PostgresQueueStore({ url, logger, poolSize: 3, clock });
      await store.open();
      const config = loadConfig({ env: {}, overrides: { hostname: 'relay.test', dataDir: os.tmpdir(), 'dns.servers': [`${dns.host}:${dns.port}`], 'dns.timeout': '1s' } });
      const recorder = new TlsOutcomeRecorder({ store, clock, logger });
      const reporter = new TlsReporter({ config, store, logger, clock, nodeId, dns: createResolver(config.dns) });
      return { store, recorder, reporter };
    }));
    t.after(async () => { for (const n of nodes) await n.store.close(); });

    for (const [i, n] of nodes.entries()) {
      for (let k = 0; k < 3 + i; k++) n.recorder.record('example.test', policy, { resultType: 'success', reason: '' });
      n.recorder.record('example.test', policy, { resultType: 'certificate-expired', reason: 'CERT_HAS_EXPIRED' }, 'mx.example.test', '192.0.2.1');
      n.recorder.record('other.test', policy, { resultType: 'success', reason: '' });
    }
    await Promise.all(nodes.map((n) => n.recorder.flush()));
    const counts = await nodes[0]!.store.readTlsOutcomes(day, 'example.test');
    assert.deepEqual(counts.map((c) => [c.resultType, c.mx, c.ip, c.reason, c.n]), [
      ['certificate-expired', 'mx.example.test', '192.0.2.1', 'CERT_HAS_EXPIRED', 2],
      ['success', '', '', '', 7],
    ]);

    clock.advance(DAY_MS); // 12:00 the next day: past tlsReporting.hour on both nodes
    const runs = await Promise.all(nodes.map((n) => n.reporter.runDue()));
    assert.equal(runs[0]!.sent + runs[1]!.sent, 2, `one report per domain over both nodes: ${JSON.stringify(runs)}`);
    const queued = await nodes[1]!.store.listRecipients({ limit: 100 });
    assert.deepEqual(queued.map((r) => r.address).sort(), ['reports@reports.test', 'reports@reports.test']);
    const messages = await Promise.all(queued.map((r) => nodes[0]!.store.getMessage(r.messageId)));
    assert.ok(messages.every((m) => m?.isBounce && m.mailFrom === ''), 'queued like a DSN');
    const again = await Promise.all(nodes.map((n) => n.reporter.runDue()));
    assert.equal(again[0]!.sent + again[1]!.sent, 0, 'and never again');
    assert.equal((await nodes[0]!.store.listRecipients({ limit: 100 })).length, 2);
  });

  it('a claim is held by one owner, final once finished, taken over after its lease (PostgreSQL)', async (t) => {
    const store = new PostgresQueueStore({ url: await freshDatabase(t, 'postlane_tlsrpt'), logger, poolSize: 2 });
    await store.open();
    t.after(() => store.close());
    await checkClaims(store);
  });

  it('the same claim semantics on SQLite', async (t) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-tlsrpt-'));
    const store = new SqliteQueueStore({ dataDir: dir, logger });
    await store.open();
    t.after(async () => { await store.close(); await fs.rm(dir, { recursive: true, force: true }); });
    await checkClaims(store);
  });
});
