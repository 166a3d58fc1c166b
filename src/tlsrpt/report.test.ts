// The TLSRPT record (RFC 8460 §3) and report (§4) as tables: which TXT answers name which
// destinations, and how counters become the report's policies, summaries and failure details.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, parseTlsrptRecord, reportFileName } from './report.js';
import { sessionResult, stsFetchResult } from './outcomes.js';
import type { TlsOutcomeCount } from '../store/tls-report-store.js';

describe('parseTlsrptRecord', () => {
  const cases: [string, string[][], unknown][] = [
    ['one mailto', [['v=TLSRPTv1; rua=mailto:tls@example.com']], [{ kind: 'mailto', address: 'tls@example.com', uri: 'mailto:tls@example.com' }]],
    ['split character-strings, two destinations', [['v=TLSRPTv1;rua=mailto:a@ex', 'ample.com,https://r.example.com/x']],
      [{ kind: 'mailto', address: 'a@example.com', uri: 'mailto:a@example.com' }, { kind: 'https', url: 'https://r.example.com/x', uri: 'https://r.example.com/x' }]],
    ['percent-encoded address', [['v=TLSRPTv1; rua=mailto:tls%2Breports@example.com']], [{ kind: 'mailto', address: 'tls+reports@example.com', uri: 'mailto:tls%2Breports@example.com' }]],
    ['other TXT records are ignored', [['v=spf1 -all'], ['v=TLSRPTv1; rua=mailto:t@example.com']], [{ kind: 'mailto', address: 't@example.com', uri: 'mailto:t@example.com' }]],
    ['two TLSRPT records: none', [['v=TLSRPTv1; rua=mailto:a@example.com'], ['v=TLSRPTv1; rua=mailto:b@example.com']], null],
    ['no rua', [['v=TLSRPTv1;']], null],
    ['only unknown schemes (http: is not allowed)', [['v=TLSRPTv1; rua=http://r.example.com/,ftp://x']], null],
    ['wrong version', [['v=TLSRPTv2; rua=mailto:a@example.com']], null],
    ['mailto: addresses that are not mailboxes (controls, header syntax, IP literal) are ignored',
      [['v=TLSRPTv1; rua=mailto:a%00b@example.com,mailto:a%1Bb@example.com,mailto:"x"%3Cy@example.com,mailto:a@[127.0.0.1],mailto:ok@example.com']],
      [{ kind: 'mailto', address: 'ok@example.com', uri: 'mailto:ok@example.com' }]],
    ['at most MAX_RUA destinations', [[`v=TLSRPTv1; rua=${Array.from({ length: 9 }, (_, i) => `mailto:r${i}@example.com`).join(',')}`]],
      Array.from({ length: 5 }, (_, i) => ({ kind: 'mailto', address: `r${i}@example.com`, uri: `mailto:r${i}@example.com` }))],
  ];
  for (const [name, txt, want] of cases) it(name, () => assert.deepEqual(parseTlsrptRecord(txt), want));
});

describe('buildReport', () => {
  const day = Date.UTC(2026, 3, 1);
  const sts = JSON.stringify({ strings: ['version: STSv1', 'mode: enforce', 'mx: mx.example.com', 'max_age: 86400'], mxHost: ['mx.example.com'] });
  const row = (o: Partial<TlsOutcomeCount>): TlsOutcomeCount => ({
    day, domain: 'example.com', policyType: 'sts', policyHash: 'h1', policy: sts, resultType: 'success', mx: '', ip: '', reason: '', n: 1, ...o,
  });
  it('groups counters by policy; failures carry their MX, address and reason', () => {
    const r = buildReport({ organization: 'Org', contact: 'postmaster@relay.example', hostname: 'relay.example' }, day, 'example.com', [
      row({ n: 10 }),
      row({ resultType: 'certificate-expired', mx: 'mx.example.com', ip: '192.0.2.1', reason: 'CERT_HAS_EXPIRED', n: 2 }),
      row({ policyType: 'tlsa', policyHash: 'h2', policy: JSON.stringify({ strings: [], mxHost: ['mx2.example.com'] }), resultType: 'dnssec-invalid', mx: 'mx2.example.com', n: 1 }),
      row({ domain: 'other.example', n: 99 }),
    ]);
    assert.deepEqual(r, {
      'organization-name': 'Org',
      'date-range': { 'start-datetime': '2026-04-01T00:00:00Z', 'end-datetime': '2026-04-01T23:59:59Z' },
      'contact-info': 'postmaster@relay.example',
      'report-id': '2026-04-01.example.com@relay.example',
      policies: [
        {
          policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: enforce', 'mx: mx.example.com', 'max_age: 86400'], 'policy-domain': 'example.com', 'mx-host': ['mx.example.com'] },
          summary: { 'total-successful-session-count': 10, 'total-failure-session-count': 2 },
          'failure-details': [{ 'result-type': 'certificate-expired', 'receiving-mx-hostname': 'mx.example.com', 'receiving-ip': '192.0.2.1', 'failed-session-count': 2, 'failure-reason-code': 'CERT_HAS_EXPIRED' }],
        },
        {
          policy: { 'policy-type': 'tlsa', 'policy-domain': 'example.com', 'mx-host': ['mx2.example.com'] },
          summary: { 'total-successful-session-count': 0, 'total-failure-session-count': 1 },
          'failure-details': [{ 'result-type': 'dnssec-invalid', 'receiving-mx-hostname': 'mx2.example.com', 'failed-session-count': 1 }],
        },
      ],
    });
    assert.equal(reportFileName('relay.example', r, 'example.com'), 'relay.example!example.com!1775001600!1775087999.json.gz');
  });
});

describe('result types', () => {
  const verify = { level: 'verify' as const, source: 'mta-sts' as const, names: ['mx.example.com'], tlsa: [] };
  const dane = { ...verify, level: 'dane' as const, source: 'dane' as const };
  const tls = (o: object) => ({ version: 'TLSv1.3', cipher: 'x', verified: false, policy: 'mta-sts' as const, level: 'verify' as const, ...o });
  const cases: [string, ReturnType<typeof sessionResult>, unknown][] = [
    ['verified', sessionResult(verify, tls({ verified: true }), null), { resultType: 'success', reason: '' }],
    ['plaintext', sessionResult(verify, tls({ version: null }), null), { resultType: 'starttls-not-supported', reason: 'STARTTLS not offered' }],
    ['expired', sessionResult(verify, tls({ error: 'the certificate is not trusted (CERT_HAS_EXPIRED)' }), null), { resultType: 'certificate-expired', reason: 'CERT_HAS_EXPIRED' }],
    ['untrusted', sessionResult(verify, tls({ error: 'the certificate is not trusted (SELF_SIGNED_CERT_IN_CHAIN)' }), null), { resultType: 'certificate-not-trusted', reason: 'SELF_SIGNED_CERT_IN_CHAIN' }],
    ['host mismatch', sessionResult(verify, tls({ error: 'the certificate is not valid for mx.example.com' }), null), { resultType: 'certificate-host-mismatch', reason: 'the certificate is not valid for mx.example.com' }],
    ['DANE mismatch', sessionResult(dane, tls({ error: 'no TLSA record matches the certificate' }), null), { resultType: 'tlsa-invalid', reason: 'no TLSA record matches the certificate' }],
    ['handshake failed', sessionResult(verify, null, 'MTA-STS policy: mx failed the TLS handshake'), { resultType: 'validation-failure', reason: 'TLS handshake failed' }],
    ['connection refused: not a TLS outcome', sessionResult(verify, null, 'connection refused'), null],
    ['policy fetch 404', stsFetchResult('policy server answered HTTP 404'), { resultType: 'sts-policy-fetch-error', reason: 'policy server answered HTTP 404' }],
    ['invalid policy', stsFetchResult('invalid policy: no mode'), { resultType: 'sts-policy-invalid', reason: 'invalid policy: no mode' }],
  ];
  for (const [name, got, want] of cases) it(name, () => assert.deepEqual(got, want));
});
