// The constraints of the RFC 8460 §4.4 report JSON (the RFC's JSON schema, written as assertions):
// required fields and their types, the enumerations of policy-type and result-type, ISO 8601
// (RFC 3339) date-times with end after start, non-negative integer counts. Throws on the first
// violation, naming the field.
import assert from 'node:assert/strict';

const RESULT_TYPES = [
  'starttls-not-supported', 'certificate-host-mismatch', 'certificate-expired', 'certificate-not-trusted', 'validation-failure',
  'tlsa-invalid', 'dnssec-invalid', 'dane-required', 'sts-policy-fetch-error', 'sts-policy-invalid', 'sts-webpki-invalid',
];
const POLICY_TYPES = ['tlsa', 'sts', 'no-policy-found'];
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const count = (v: unknown, at: string) => assert.ok(Number.isInteger(v) && (v as number) >= 0, `${at}: a non-negative integer, got ${JSON.stringify(v)}`);
const str = (v: unknown, at: string) => assert.ok(typeof v === 'string' && v.length > 0, `${at}: a non-empty string, got ${JSON.stringify(v)}`);
const strings = (v: unknown, at: string) => {
  assert.ok(Array.isArray(v), `${at}: an array`);
  v.forEach((s, i) => assert.equal(typeof s, 'string', `${at}[${i}]: a string`));
};

export function assertValidTlsrpt(r: unknown): void {
  assert.ok(isObject(r), 'the report is a JSON object');
  str(r['organization-name'], 'organization-name');
  str(r['contact-info'], 'contact-info');
  str(r['report-id'], 'report-id');
  const range = r['date-range'];
  assert.ok(isObject(range), 'date-range: an object');
  for (const k of ['start-datetime', 'end-datetime']) {
    assert.match(String(range[k]), DATE_TIME, `date-range.${k}: an RFC 3339 date-time`);
    assert.ok(!Number.isNaN(Date.parse(String(range[k]))), `date-range.${k}: a valid date`);
  }
  assert.ok(Date.parse(String(range['end-datetime'])) > Date.parse(String(range['start-datetime'])), 'date-range: end after start');
  assert.ok(Array.isArray(r.policies), 'policies: an array');
  r.policies.forEach((p: unknown, i: number) => {
    const at = `policies[${i}]`;
    assert.ok(isObject(p), `${at}: an object`);
    const policy = p.policy;
    assert.ok(isObject(policy), `${at}.policy: an object`);
    assert.ok(POLICY_TYPES.includes(String(policy['policy-type'])), `${at}.policy.policy-type: one of ${POLICY_TYPES.join(', ')}`);
    str(policy['policy-domain'], `${at}.policy.policy-domain`);
    if ('policy-string' in policy) strings(policy['policy-string'], `${at}.policy.policy-string`);
    if ('mx-host' in policy) strings(policy['mx-host'], `${at}.policy.mx-host`);
    const summary = p.summary;
    assert.ok(isObject(summary), `${at}.summary: an object`);
    count(summary['total-successful-session-count'], `${at}.summary.total-successful-session-count`);
    count(summary['total-failure-session-count'], `${at}.summary.total-failure-session-count`);
    if ('failure-details' in p) {
      assert.ok(Array.isArray(p['failure-details']), `${at}.failure-details: an array`);
      (p['failure-details'] as unknown[]).forEach((f, j) => {
        const fat = `${at}.failure-details[${j}]`;
        assert.ok(isObject(f), `${fat}: an object`);
        assert.ok(RESULT_TYPES.includes(String(f['result-type'])), `${fat}.result-type: one of the RFC 8460 result types, got ${String(f['result-type'])}`);
        count(f['failed-session-count'], `${fat}.failed-session-count`);
        for (const k of ['sending-mta-ip', 'receiving-mx-hostname', 'receiving-mx-helo', 'receiving-ip', 'additional-information', 'failure-reason-code']) {
          if (k in f) assert.equal(typeof f[k], 'string', `${fat}.${k}: a string`);
        }
      });
      const failed = (p['failure-details'] as { 'failed-session-count': number }[]).reduce((n, f) => n + f['failed-session-count'], 0);
      assert.equal(failed, summary['total-failure-session-count'], `${at}: failure details add up to total-failure-session-count`);
    }
  });
}
