// The records `domains add/records` print, as literals: which ones, their exact values, the
// zone-file form (TXT split into 255-byte strings), and what the config adds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema } from '../config/schema.js';
import type { DkimKey } from '../store/store.js';
import { expectedRecords, formatZoneLine, txtStrings } from './dns-records.js';

const CREATED = Date.UTC(2025, 6, 1);
const key = (selector: string, over: Partial<DkimKey> = {}): DkimKey =>
  ({ selector, algorithm: 'rsa', privateKey: 'PEM', publicKey: 'PUB', createdAt: CREATED, state: 'active', ...over });

const ctx = (domains: Record<string, unknown> = {}) => ({ hostname: 'relay.example.net', domains: configSchema.parse({ domains }).domains });

describe('expectedRecords', () => {
  it('DKIM per active/pending key, SPF hint from the hostname, DMARC p=none with rua', () => {
    const keys = [key('s1'), key('s1-ed', { algorithm: 'ed25519', publicKey: 'ED' }), key('old', { state: 'retired' }), key('s2', { state: 'pending' })];
    const recs = expectedRecords('example.com', keys, CREATED, ctx());
    assert.deepEqual(recs.map((r) => [r.purpose, r.name, r.type, r.value, r.required]), [
      ['dkim', 's1._domainkey.example.com', 'TXT', 'v=DKIM1; k=rsa; p=PUB', true],
      ['dkim', 's1-ed._domainkey.example.com', 'TXT', 'v=DKIM1; k=ed25519; p=ED', true],
      ['dkim', 's2._domainkey.example.com', 'TXT', 'v=DKIM1; k=rsa; p=PUB', true],
      ['spf', 'example.com', 'TXT', 'v=spf1 a:relay.example.net ~all', true],
      ['dmarc', '_dmarc.example.com', 'TXT', 'v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com', true],
    ]);
    assert.match(recs[2]!.note!, /rotation/);
    assert.deepEqual(recs[0]!.key, { selector: 's1', algorithm: 'rsa', publicKey: 'PUB', state: 'active' });
  });

  it('config: SPF mechanisms, bounce CNAME, MTA-STS and TLS-RPT', () => {
    const recs = expectedRecords('example.com', [], CREATED, ctx({
      spf: 'include:_spf.relay.example ip4:192.0.2.10', bounceDomain: { target: 'bounces.relay.example' },
      mtaSts: { policyHost: 'mta-sts.relay.example' }, tlsRpt: true,
    }));
    assert.deepEqual(recs.map((r) => [r.purpose, r.name, r.type, r.value, r.required]), [
      ['spf', 'example.com', 'TXT', 'v=spf1 include:_spf.relay.example ip4:192.0.2.10 ~all', true],
      ['dmarc', '_dmarc.example.com', 'TXT', 'v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com', true],
      ['bounce', 'bounces.example.com', 'CNAME', 'bounces.relay.example', true],
      ['mta-sts', '_mta-sts.example.com', 'TXT', 'v=STSv1; id=2025070101', false],
      ['mta-sts', 'mta-sts.example.com', 'CNAME', 'mta-sts.relay.example', false],
      ['tls-rpt', '_smtp._tls.example.com', 'TXT', 'v=TLSRPTv1; rua=mailto:tls-reports@example.com', false],
    ]);
  });
});

describe('zone-file form', () => {
  it('splits long TXT values into 255-byte strings and escapes quotes', () => {
    const long = 'v=DKIM1; k=rsa; p=' + 'A'.repeat(400);
    assert.deepEqual(txtStrings(long).map((s) => s.length), [255, 163]);
    assert.equal(txtStrings(long).join(''), long);
    const line = formatZoneLine({ purpose: 'dkim', name: 's._domainkey.example.com', type: 'TXT', value: long, required: true });
    assert.equal(line, `s._domainkey.example.com.\t3600\tIN\tTXT\t"${long.slice(0, 255)}" "${long.slice(255)}"`);
    assert.equal(formatZoneLine({ purpose: 'spf', name: 'a.test', type: 'TXT', value: 'say "hi"', required: true }), 'a.test.\t3600\tIN\tTXT\t"say \\"hi\\""');
  });

  it('CNAME targets end with a dot', () => {
    assert.equal(formatZoneLine({ purpose: 'bounce', name: 'bounces.example.com', type: 'CNAME', value: 'b.relay.example', required: true }),
      'bounces.example.com.\t3600\tIN\tCNAME\tb.relay.example.');
  });
});
