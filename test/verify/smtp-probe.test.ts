// The SMTP RCPT probe against local test MXs (smtp-server): a mailbox it knows, one it refuses
// with 550 5.1.1, a catch-all, a greylister; the dialog never reaches DATA. Then verifyAddress
// with the probe on: the verdicts it changes and the ones it must not be asked about.
import test from 'node:test';
import assert from 'node:assert/strict';
import { DnsLookupError, type MxRecord, type MxResolver } from '../../src/delivery/resolver.js';
import { SmtpProber, type ProbeSettings } from '../../src/verify/smtp-probe.js';
import { verifyAddress, type VerifyDeps } from '../../src/verify/verify-address.js';
import { VerifyLists } from '../../src/verify/verify-lists.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';

const settings = (port: number, over: Partial<ProbeSettings> = {}): ProbeSettings =>
  ({ timeoutMs: 3000, perHostPerMinute: 100, skipMxHosts: ['google.com'], port, heloName: 'relay.test', ...over });
const clock = { now: () => Date.now() };

async function mx(t: test.TestContext, rcpt: (a: string) => { code: number; message: string } | null): Promise<Receiver & { rcpts: string[] }> {
  const rcpts: string[] = [];
  const r = await startReceiver({ host: '127.0.0.1', tls: false, behaviour: { rcpt: (a) => (rcpts.push(a), rcpt(a)) } });
  t.after(() => r.close());
  return Object.assign(r, { rcpts });
}

const knowsAnn = (a: string) => (a === 'ann@probe.test' ? null : { code: 550, message: '5.1.1 no such user' });

test('the probe: accepted, rejected, catch-all, greylisted; never DATA', async (t) => {
  const strict = await mx(t, knowsAnn);
  const p = new SmtpProber(settings(strict.port), clock);
  const ok = await p.probe('ann@probe.test', 'probe.test', 'mx.probe.test', '127.0.0.1');
  assert.equal(ok.kind, 'accepted');
  assert.equal(ok.kind === 'accepted' && ok.catchAll, false);
  const bad = await p.probe('bob@probe.test', 'probe.test', 'mx.probe.test', '127.0.0.1');
  assert.deepEqual(bad, { kind: 'rejected', reply: '550 5.1.1 no such user' });
  assert.equal(strict.rcpts.length, 3, 'ann, the random address, bob (no random RCPT after a refusal)');
  assert.match(strict.rcpts[1]!, /^postlane-probe-[0-9a-f]{16}@probe\.test$/);
  assert.equal(strict.messages.length, 0, 'no DATA, no message');

  const catchAll = await mx(t, () => null);
  const ca = await new SmtpProber(settings(catchAll.port), clock).probe('anyone@probe.test', 'probe.test', 'mx.probe.test', '127.0.0.1');
  assert.equal(ca.kind === 'accepted' && ca.catchAll, true);
  assert.equal(catchAll.messages.length, 0);

  const grey = await mx(t, () => ({ code: 451, message: '4.7.1 greylisted, try later' }));
  const g = await new SmtpProber(settings(grey.port), clock).probe('ann@probe.test', 'probe.test', 'mx.probe.test', '127.0.0.1');
  assert.equal(g.kind, 'inconclusive');

  const closed = await new SmtpProber(settings(1, { timeoutMs: 1000 }), clock).probe('ann@probe.test', 'probe.test', 'mx.probe.test', '127.0.0.1');
  assert.equal(closed.kind, 'inconclusive');
});

test('the probe: denied providers and the per-host rate are skipped without a connection', async (t) => {
  const strict = await mx(t, knowsAnn);
  const p = new SmtpProber(settings(strict.port, { perHostPerMinute: 2 }), clock);
  assert.equal((await p.probe('ann@gmail.com', 'gmail.com', 'gmail-smtp-in.l.google.com', '127.0.0.1')).kind, 'skipped');
  assert.equal(strict.sessions, 0);
  assert.equal((await p.probe('ann@probe.test', 'probe.test', 'mx.probe.test', '127.0.0.1')).kind, 'accepted');
  assert.equal((await p.probe('ann@probe.test', 'probe.test', 'mx.probe.test', '127.0.0.1')).kind, 'accepted');
  const third = await p.probe('ann@probe.test', 'probe.test', 'mx.probe.test', '127.0.0.1');
  assert.equal(third.kind, 'skipped');
  assert.equal(strict.sessions, 2);
  // The rate is per host name and per address: another name of the same address shares it
  // (a thousand MX names pointing at one victim make no more probes there; attack31).
  assert.equal((await p.probe('ann@probe.test', 'probe.test', 'mx2.probe.test', '127.0.0.1')).kind, 'skipped', 'another name of the same address shares its rate');
  assert.equal(strict.sessions, 2);
});

test('verifyAddress with the probe: 550 5.1.1 → undeliverable, catch-all → risky, not asked about known-bad addresses', async (t) => {
  const strict = await mx(t, knowsAnn);
  const catchAll = await mx(t, () => null);
  const zone: Record<string, { MX?: MxRecord[]; A?: string[] }> = {
    'probe.test': { MX: [{ exchange: 'mx.probe.test', priority: 10 }] }, 'mx.probe.test': { A: ['127.0.0.1'] },
    'nullmx.test': { MX: [{ exchange: '', priority: 0 }] },
  };
  const resolver: MxResolver = {
    resolveMx: async (d) => { if (!zone[d]) throw new DnsLookupError('nxdomain', d, 'MX', 'ENOTFOUND'); if (!zone[d]!.MX) throw new DnsLookupError('nodata', d, 'MX', 'ENODATA'); return zone[d]!.MX!; },
    resolve4: async (h) => { if (!zone[h]?.A) throw new DnsLookupError('nodata', h, 'A', 'ENODATA'); return zone[h]!.A!; },
    resolve6: async (h) => { throw new DnsLookupError('nodata', h, 'AAAA', 'ENODATA'); },
  };
  const store: VerifyDeps['store'] = {
    listSuppressions: async (q) => (q.address === 'gone@probe.test' ? [{ account: 'a', address: 'gone@probe.test', scope: 'all', reason: 'manual', source: 'cli', messageId: null, detail: null, createdAt: 0 }] : []),
    listEvents: async () => [],
  };
  const deps = (port: number): VerifyDeps => ({ resolver, store, lists: new VerifyLists({ extraDisposableFile: null }), ipv6: false, prober: new SmtpProber(settings(port), clock) });

  const ann = await verifyAddress(deps(strict.port), 'a', 'ann@probe.test');
  assert.equal(ann.verdict, 'deliverable');
  assert.deepEqual(ann.reasons.map((r) => r.code), ['rcpt_accepted']);
  assert.equal(ann.checks.catch_all, false);
  assert.equal(ann.checks.smtp_probe?.outcome, 'accepted');
  const bob = await verifyAddress(deps(strict.port), 'a', 'bob@probe.test');
  assert.equal(bob.verdict, 'undeliverable');
  assert.equal(bob.reasons[0]!.code, 'rcpt_rejected');
  assert.match(bob.reasons[0]!.detail, /550 5\.1\.1/);
  const any = await verifyAddress(deps(catchAll.port), 'a', 'whoever@probe.test');
  assert.equal(any.verdict, 'risky');
  assert.deepEqual(any.reasons.map((r) => r.code), ['catch_all']);
  assert.equal(any.checks.catch_all, true);

  const before = strict.sessions;
  assert.equal((await verifyAddress(deps(strict.port), 'a', 'gone@probe.test')).checks.smtp_probe, null, 'suppressed: not probed');
  assert.equal((await verifyAddress(deps(strict.port), 'a', 'x@nullmx.test')).checks.smtp_probe, null);
  assert.equal(strict.sessions, before);
  assert.equal(strict.messages.length + catchAll.messages.length, 0);
});
