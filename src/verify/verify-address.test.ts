// The verdict table and the verification steps, with an in-memory resolver and store (no sockets):
// one row per kind of address, its verdict and its reason codes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DnsLookupError, type MxRecord, type MxResolver } from '../delivery/resolver.js';
import type { EventQuery, MessageEvent } from '../store/platform-store.js';
import type { Suppression, SuppressionQuery } from '../store/suppression-store.js';
import { decideVerdict, orderReasons, REASON_RULES, type ReasonCode } from './verdict-rules.js';
import { verifyAddress, type VerifyDeps } from './verify-address.js';
import { verifyBatch, VerifyBudget } from './verify-batch.js';
import { isInDomainSet, parseList, roleKey, VerifyLists } from './verify-lists.js';

type Zone = Record<string, { MX?: MxRecord[]; A?: string[]; AAAA?: string[]; fail?: true }>;

function fakeResolver(zone: Zone, calls: string[] = []): MxResolver {
  const lookup = (name: string, type: 'MX' | 'A' | 'AAAA') => {
    calls.push(`${type} ${name}`);
    const entry = zone[name];
    if (!entry) return Promise.reject(new DnsLookupError('nxdomain', name, type, 'ENOTFOUND'));
    if (entry.fail) return Promise.reject(new DnsLookupError('temporary', name, type, 'ESERVFAIL'));
    const recs = entry[type];
    if (!recs || recs.length === 0) return Promise.reject(new DnsLookupError('nodata', name, type, 'ENODATA'));
    return Promise.resolve(recs);
  };
  return { resolveMx: (d) => lookup(d, 'MX') as Promise<MxRecord[]>, resolve4: (h) => lookup(h, 'A') as Promise<string[]>, resolve6: (h) => lookup(h, 'AAAA') as Promise<string[]> };
}

const ZONE: Zone = {
  'mx.test': { MX: [{ exchange: 'mx1.mx.test', priority: 10 }] },
  'mx1.mx.test': { A: ['192.0.2.1'] },
  'aonly.test': { A: ['192.0.2.2'] },
  'nullmx.test': { MX: [{ exchange: '', priority: 0 }] },
  'nothing.test': { AAAA: [] },
  'servfail.test': { fail: true },
  'deadmx.test': { MX: [{ exchange: 'gone.deadmx.test', priority: 10 }] },
  'mailinator.com': { MX: [{ exchange: 'mx1.mx.test', priority: 10 }] },
  'sub.mailinator.com': { MX: [{ exchange: 'mx1.mx.test', priority: 10 }] },
  'xn--bcher-kva.test': { MX: [{ exchange: 'mx1.mx.test', priority: 10 }] },
};

const DAY = 86_400_000;
const T0 = Date.parse('2026-06-01T00:00:00Z');

function fakeStore(suppressions: Suppression[], events: Omit<MessageEvent, 'id' | 'seq'>[]): VerifyDeps['store'] {
  return {
    listSuppressions: async (q: SuppressionQuery) => suppressions.filter((s) => s.account === q.account && s.address === q.address),
    listEvents: async (q: EventQuery) => events
      .filter((e) => e.account === q.account && e.recipient?.toLowerCase() === q.recipient?.toLowerCase() && (!q.types || q.types.includes(e.type)))
      .map((e, i) => ({ ...e, id: `ev_${i}`, seq: i })),
  };
}

const sup = (account: string, address: string, scope: 'all' | 'broadcast', reason: Suppression['reason']): Suppression =>
  ({ account, address, scope, reason, source: 'cli', messageId: null, detail: null, createdAt: T0 });
const ev = (account: string, recipient: string, type: MessageEvent['type'], at: number, data: Record<string, unknown> = {}) =>
  ({ account, recipient, type, at, messageId: 'm1', data });

const lists = new VerifyLists({ extraDisposableFile: null });
const deps = (over: Partial<VerifyDeps> = {}): VerifyDeps => ({
  resolver: fakeResolver(ZONE), lists, ipv6: true,
  store: fakeStore(
    [sup('acme', 'gone@mx.test', 'all', 'hard-bounce'), sup('acme', 'unsub@mx.test', 'broadcast', 'unsubscribe'), sup('other', 'ann@mx.test', 'all', 'manual')],
    [
      ev('acme', 'bounced@mx.test', 'bounced', T0, { bounceType: 'hard' }),
      ev('acme', 'back@mx.test', 'bounced', T0, { bounceType: 'hard' }), ev('acme', 'back@mx.test', 'delivered', T0 + DAY),
      ev('acme', 'soft@mx.test', 'bounced', T0, { bounceType: 'soft' }),
      ev('acme', 'angry@mx.test', 'delivered', T0), ev('acme', 'angry@mx.test', 'complained', T0 + DAY),
      ev('other', 'bob@mx.test', 'bounced', T0, { bounceType: 'hard' }),
    ]),
  ...over,
});

describe('verifyAddress: the verdict table', () => {
  const rows: [address: string, verdict: string, codes: ReasonCode[]][] = [
    ['ann@mx.test', 'deliverable', []],
    ['Ann@MX.Test', 'deliverable', []],
    ['ann@aonly.test', 'deliverable', ['implicit_mx']],
    ['ann@nullmx.test', 'undeliverable', ['null_mx']],
    ['ann@nxdomain.test', 'undeliverable', ['domain_not_found']],
    ['ann@nothing.test', 'undeliverable', ['no_mail_host']],
    ['ann@deadmx.test', 'undeliverable', ['mail_host_unresolvable']],
    ['ann@servfail.test', 'unknown', ['dns_temporary']],
    ['info@servfail.test', 'unknown', ['dns_temporary', 'role_account']],
    ['postmaster@mx.test', 'risky', ['role_account']],
    ['No-Reply+x@mx.test', 'risky', ['role_account']],
    ['ann@mailinator.com', 'risky', ['disposable_domain']],
    ['ann@sub.mailinator.com', 'risky', ['disposable_domain']],
    ['gone@mx.test', 'undeliverable', ['suppressed']],
    ['GONE@mx.test', 'undeliverable', ['suppressed']],
    ['unsub@mx.test', 'risky', ['suppressed_broadcast']],
    ['bounced@mx.test', 'undeliverable', ['hard_bounced']],
    ['back@mx.test', 'deliverable', ['previously_delivered']],
    ['soft@mx.test', 'deliverable', []],
    ['angry@mx.test', 'risky', ['complained', 'previously_delivered']],
    ['bob@mx.test', 'deliverable', []],                       // another account's hard bounce
    ['用户@mx.test', 'deliverable', ['smtputf8']],
    ['ann@bücher.test', 'deliverable', ['smtputf8']],
    ['"ann smith"@mx.test', 'deliverable', []],
    ['ann@[192.0.2.1]', 'risky', ['address_literal']],
    ['ann', 'undeliverable', ['syntax_invalid']],
    ['ann@', 'undeliverable', ['syntax_invalid']],
    ['ann@@mx.test', 'undeliverable', ['syntax_invalid']],
    ['ann..b@mx.test', 'undeliverable', ['syntax_invalid']],
    [' ann@mx.test', 'undeliverable', ['syntax_invalid']],
    ['ann@mx_test', 'undeliverable', ['syntax_invalid']],
    [`${'a'.repeat(65)}@mx.test`, 'undeliverable', ['syntax_invalid']],
  ];
  for (const [address, verdict, codes] of rows) {
    it(`${address} → ${verdict} ${codes.join(',')}`, async () => {
      const r = await verifyAddress(deps(), 'acme', address);
      assert.equal(r.verdict, verdict);
      assert.deepEqual(r.reasons.map((x) => x.code).sort(), [...codes].sort());
      if (r.reasons.length > 0) assert.equal(decideVerdict([r.reasons[0]!.code]), verdict, 'reasons[0] explains the verdict');
    });
  }

  it('reports the checks', async () => {
    const r = await verifyAddress(deps(), 'acme', 'Gone@MX.test');
    assert.equal(r.normalized, 'Gone@mx.test');
    assert.deepEqual(r.checks.mx, { kind: 'mx', hosts: ['mx1.mx.test'] });
    assert.equal(r.checks.domain, 'exists');
    assert.deepEqual(r.checks.suppressed, { scope: 'all', reason: 'hard-bounce', since: new Date(T0).toISOString() });
    assert.equal(r.checks.catch_all, 'not_checked');
    const implicit = await verifyAddress(deps(), 'acme', 'x@aonly.test');
    assert.deepEqual(implicit.checks.mx, { kind: 'implicit', hosts: ['aonly.test'] });
    const nul = await verifyAddress(deps(), 'acme', 'x@nullmx.test');
    assert.deepEqual(nul.checks.mx, { kind: 'null', hosts: [] });
    const h = await verifyAddress(deps(), 'acme', 'back@mx.test');
    assert.deepEqual(h.checks.history, { delivered: 1, hard_bounces: 1, soft_bounces: 0, complaints: 0, last_hard_bounce: new Date(T0).toISOString(), last_delivered: new Date(T0 + DAY).toISOString() });
  });

  it('verify.history: false reads no events; the suppression list still speaks', async () => {
    const off = deps({ history: false });
    const bounced = await verifyAddress(off, 'acme', 'bounced@mx.test');
    assert.equal(bounced.verdict, 'deliverable');
    assert.equal(bounced.checks.history, null);
    assert.equal((await verifyAddress(off, 'acme', 'gone@mx.test')).verdict, 'undeliverable');
    assert.equal((await verifyAddress(deps(), 'acme', 'bad address')).checks.history, null);
  });

  it('a certain finding wins over a DNS failure; a DNS failure never makes "undeliverable" alone', async () => {
    const zone = { ...ZONE, 'mx.test': { fail: true as const } };
    assert.equal((await verifyAddress(deps({ resolver: fakeResolver(zone) }), 'acme', 'gone@mx.test')).verdict, 'undeliverable');
    assert.equal((await verifyAddress(deps({ resolver: fakeResolver(zone) }), 'acme', 'ann@mx.test')).verdict, 'unknown');
    const hostFail = { ...ZONE, 'mx1.mx.test': { fail: true as const } };
    assert.equal((await verifyAddress(deps({ resolver: fakeResolver(hostFail) }), 'acme', 'ann@mx.test')).verdict, 'unknown');
  });
});

describe('the rules', () => {
  it('every reason code has one rule; the worst verdict wins', () => {
    assert.equal(new Set(REASON_RULES.map((r) => r.code)).size, REASON_RULES.length);
    assert.equal(decideVerdict([]), 'deliverable');
    assert.equal(decideVerdict(['implicit_mx', 'smtputf8']), 'deliverable');
    assert.equal(decideVerdict(['role_account', 'implicit_mx']), 'risky');
    assert.equal(decideVerdict(['role_account', 'dns_temporary']), 'unknown');
    assert.equal(decideVerdict(['dns_temporary', 'suppressed']), 'undeliverable');
    assert.deepEqual(orderReasons([{ code: 'implicit_mx' }, { code: 'role_account' }, { code: 'null_mx' }]).map((r) => r.code), ['null_mx', 'role_account', 'implicit_mx']);
  });
});

describe('lists', () => {
  it('parses, matches parents and strips +detail', () => {
    assert.deepEqual(parseList('# c\nA.test \n\nb.test # why\n'), ['a.test', 'b.test']);
    const set = new Set(['mailinator.com']);
    assert.equal(isInDomainSet(set, 'x.Mailinator.com'), true);
    assert.equal(isInDomainSet(set, 'notmailinator.com'), false);
    assert.equal(isInDomainSet(set, 'com'), false);
    assert.equal(roleKey('"Info+x"'), 'info');
  });

  it('an extra disposable file is added, and re-read when it changes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-lists-'));
    const file = path.join(dir, 'extra.txt');
    fs.writeFileSync(file, 'throwaway.test\n');
    let now = 0;
    const l = new VerifyLists({ extraDisposableFile: file, recheckMs: 1000, now: () => now });
    assert.equal(l.isDisposable('throwaway.test'), true);
    assert.equal(l.isDisposable('yopmail.com'), true, 'the built-in list stays');
    fs.writeFileSync(file, 'burner.test\n');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    assert.equal(l.isDisposable('burner.test'), false, 'not before the recheck interval');
    now = 2000;
    assert.equal(l.isDisposable('burner.test'), true);
    assert.equal(l.isDisposable('throwaway.test'), false);
    fs.rmSync(dir, { recursive: true });
    assert.throws(() => new VerifyLists({ extraDisposableFile: file }), /verify.extraDisposableDomains/);
  });
});

describe('verifyBatch and the budget', () => {
  it('keeps the order, looks each domain up once', async () => {
    const calls: string[] = [];
    const addrs = ['a@mx.test', 'b@mx.test', 'bad', 'c@aonly.test', 'd@mx.test'];
    const out = await verifyBatch(deps({ resolver: fakeResolver(ZONE, calls) }), 'acme', addrs, 2);
    assert.deepEqual(out.map((r) => r.address), addrs);
    assert.equal(calls.filter((c) => c === 'MX mx.test').length, 1);
  });

  it('charges per account per minute', () => {
    let now = 60_000 * 100 + 30_000;
    const b = new VerifyBudget(10, { now: () => now });
    assert.deepEqual(b.take('acme', 8), { ok: true });
    assert.deepEqual(b.take('acme', 3), { ok: false, retryAfterSeconds: 30 });
    assert.deepEqual(b.take('other', 10), { ok: true });
    now += 30_000;
    assert.deepEqual(b.take('acme', 10), { ok: true });
  });
});
