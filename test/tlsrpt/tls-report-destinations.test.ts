// Where TLS reports may go (attacker's view): the rua= of `_smtp._tls` TXT is chosen by whoever
// controls a recipient domain's DNS, so an https: endpoint on a literal loopback address, or a name
// that resolves to one, is refused (SSRF), unless tlsReporting.allowPrivateDestinations is set, as
// for webhooks; and a record listing many mailto: addresses gets the report mailed to MAX_RUA of
// them only. Real DNS answers from the test DNS server, a real HTTPS endpoint on loopback, SQLite.
import fs from 'node:fs/promises';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { createResolver } from '../../src/delivery/resolver.js';
import { createLogger } from '../../src/events/log.js';
import { SqliteQueueStore } from '../../src/store/sqlite/sqlite-store.js';
import { DAY_MS, dayOf, stsPolicy, TlsOutcomeRecorder } from '../../src/tlsrpt/outcomes.js';
import { MAX_RUA } from '../../src/tlsrpt/report.js';
import { TlsReporter } from '../../src/tlsrpt/reporter.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { ManualClock } from '../delivery/fixture.js';
import { createTestCa, issueCert } from '../delivery/test-pki.js';

const logger = createLogger('silent');
const policy = stsPolicy({ mode: 'enforce', mx: ['mx.example.test'], maxAge: 86_400 });

describe('TLS report destinations', () => {
  let dns: DnsServer;
  let dir: string;
  let ca: string;
  let server: https.Server;
  let port: number;
  const posts: string[] = [];

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-tlsrpt-dest-'));
    const testCa = await createTestCa();
    ca = testCa.cert;
    const cert = await issueCert(testCa, ['internal.hostile.test']);
    server = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      req.resume();
      req.on('end', () => { posts.push(req.url ?? ''); res.writeHead(201).end(); });
    });
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.13.21', () => resolve()); });
    port = (server.address() as net.AddressInfo).port;
    dns = await startDnsServer();
    const many = Array.from({ length: 40 }, (_, i) => `mailto:victim${i}@victims.test`).join(',');
    dns.setZone({
      'internal.hostile.test': { A: ['127.0.13.21'] },
      '_smtp._tls.literal.test': { TXT: [`v=TLSRPTv1; rua=https://127.0.13.21:${port}/literal`] },
      '_smtp._tls.named.test': { TXT: [`v=TLSRPTv1; rua=https://internal.hostile.test:${port}/named`] },
      '_smtp._tls.many.test': { TXT: [`v=TLSRPTv1; rua=${many}`.match(/.{1,250}/g)!] },
    });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await dns.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function runDay(name: string, allowPrivate: boolean) {
    const store = new SqliteQueueStore({ dataDir: path.join(dir, name), logger });
    await fs.mkdir(path.join(dir, name));
    await store.open();
    const clock = new ManualClock(Date.UTC(2026, 2, 3, 12));
    const config = loadConfig({
      env: {}, overrides: {
        hostname: 'relay.test', dataDir: path.join(dir, name), 'dns.servers': [`${dns.host}:${dns.port}`], 'dns.timeout': '1s',
        'tlsReporting.allowPrivateDestinations': allowPrivate,
      },
    });
    const recorder = new TlsOutcomeRecorder({ store, clock, logger });
    for (const d of ['literal.test', 'named.test', 'many.test']) recorder.record(d, policy, { resultType: 'success', reason: '' });
    await recorder.flush();
    clock.advance(DAY_MS);
    const reporter = new TlsReporter({ config, store, logger, clock, nodeId: 'node-a', dns: createResolver(config.dns), ca });
    const run = await reporter.runDue();
    const reports = await store.listTlsReports(10);
    const queued = await store.listRecipients({ limit: 100 });
    await store.close();
    return { run, reports, queued, day: dayOf(clock.now()) };
  }

  it('refuses https: endpoints on loopback, by literal address or by name, and mails MAX_RUA addresses at most', async () => {
    posts.length = 0;
    const { run, reports, queued } = await runDay('closed', false);
    assert.deepEqual(posts, [], 'no POST reached the loopback endpoint');
    assert.deepEqual(run, { sent: 1, skipped: 0, retried: 2, failed: 0 }, JSON.stringify(reports.map((r) => [r.domain, r.detail])));
    const detail = (d: string) => reports.find((r) => r.domain === d)?.detail ?? '';
    assert.match(detail('literal.test'), /127\.0\.13\.21 is not a public address/);
    assert.match(detail('named.test'), /internal\.hostile\.test resolves to 127\.0\.13\.21, not a public address/);
    assert.equal(MAX_RUA, 5);
    assert.deepEqual(queued.map((r) => r.address).sort(), ['victim0@victims.test', 'victim1@victims.test', 'victim2@victims.test', 'victim3@victims.test', 'victim4@victims.test']);
  });

  it('reaches them when tlsReporting.allowPrivateDestinations is set', async () => {
    posts.length = 0;
    const { run, reports } = await runDay('open', true);
    const detail = (d: string) => reports.find((r) => r.domain === d)?.detail ?? '';
    assert.deepEqual(run, { sent: 2, skipped: 0, retried: 1, failed: 0 }, JSON.stringify(reports.map((r) => [r.domain, r.detail])));
    assert.deepEqual(posts, ['/named']);
    // The literal address was connected to (its certificate names no IP address): not refused.
    assert.match(detail('literal.test'), /ERR_TLS_CERT_ALTNAME_INVALID/);
  });
});
