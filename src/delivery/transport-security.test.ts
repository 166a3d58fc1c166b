// The precedence of TLS policies per MX host, as a table: operator rule/default, DANE, MTA-STS.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../events/log.js';
import type { MtaStsPolicy } from './mta-sts-policy.js';
import type { SecureAnswer, SecureResolver } from './secure-resolver.js';
import { TransportSecurity, type HostSecurity } from './transport-security.js';

const TLSA = { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.alloc(32, 7) };
const PKIX_TLSA = { usage: 1, selector: 1, matchingType: 1, certificate: Buffer.alloc(32, 7) };

/** TLSA per MX host: 'secure' (AD, usable), 'unusable' (AD, PKIX-EE only), 'insecure' (no AD), 'servfail' (signed host), absent: none. */
type DaneCase = 'secure' | 'unusable' | 'insecure' | 'servfail';

function fakeDane(hosts: Record<string, DaneCase>): SecureResolver {
  return {
    query: async (name, type): Promise<SecureAnswer> => {
      const host = name.replace(/^_\d+\._tcp\./, '');
      const c = hosts[host];
      if (type === 'A') return { rcode: 'NOERROR', authenticated: c === 'servfail', answers: [] };
      if (c === 'servfail') return { rcode: 'SERVFAIL', authenticated: false, answers: [] };
      if (!c) return { rcode: 'NXDOMAIN', authenticated: false, answers: [] };
      const data = c === 'unusable' ? PKIX_TLSA : TLSA;
      return { rcode: 'NOERROR', authenticated: c !== 'insecure', answers: [{ type: 'TLSA', name, data }] };
    },
  };
}

function security(opts: { tls?: string; rules?: unknown[]; sts?: MtaStsPolicy | null; dane?: Record<string, DaneCase> }) {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({ write(c: Buffer, _e, cb) { logs.push(JSON.parse(c.toString()) as Record<string, unknown>); cb(); } });
  const config = loadConfig({ env: {}, overrides: { 'delivery.tls': opts.tls ?? 'opportunistic', 'delivery.tlsPolicies': opts.rules ?? [] } });
  const ts = new TransportSecurity({
    config, logger: createLogger('debug', sink),
    mtaSts: { policyFor: async () => opts.sts ?? null },
    dane: fakeDane(opts.dane ?? {}),
  });
  return { ts, logs };
}

/** [level, source, names, audit] of an accepted host, or the refusal reason. */
function summary(h: HostSecurity): unknown {
  if (!h.ok) return [h.verdict.status, h.verdict.reason, h.notInPolicy];
  return [h.requirement.level, h.requirement.source, h.requirement.names, h.requirement.audit ?? false];
}

const enforce: MtaStsPolicy = { mode: 'enforce', mx: ['*.example.test'], maxAge: 86400 };
const testing: MtaStsPolicy = { mode: 'testing', mx: ['mx1.example.test'], maxAge: 86400 };

describe('TransportSecurity.forHost', () => {
  const table: [string, Parameters<typeof security>[0], string, unknown][] = [
    ['nothing: opportunistic', {}, 'mx1.example.test', ['opportunistic', 'opportunistic', ['mx1.example.test'], false]],
    ['delivery.tls required', { tls: 'required' }, 'mx1.example.test', ['required', 'policy', ['mx1.example.test'], false]],
    ['rule verify', { rules: [{ match: 'example.test', policy: 'verify' }] }, 'mx1.example.test', ['verify', 'policy', ['mx1.example.test'], false]],
    ['MTA-STS enforce, listed', { sts: enforce }, 'mx1.example.test', ['verify', 'mta-sts', ['mx1.example.test'], false]],
    ['MTA-STS enforce, not listed', { sts: enforce }, 'mx.other.test', ['4.7.5', 'MTA-STS policy: mx.other.test not in policy', true]],
    ['MTA-STS testing: audit only', { sts: testing }, 'mx1.example.test', ['opportunistic', 'opportunistic', ['mx1.example.test'], true]],
    ['MTA-STS testing, not listed: still used', { sts: testing }, 'mx9.example.test', ['opportunistic', 'opportunistic', ['mx9.example.test'], true]],
    ['MTA-STS mode none: no policy', { sts: { mode: 'none', mx: [], maxAge: 60 } }, 'mx.other.test', ['opportunistic', 'opportunistic', ['mx.other.test'], false]],
    ['DANE', { dane: { 'mx1.example.test': 'secure' } }, 'mx1.example.test', ['dane', 'dane', ['mx1.example.test', 'example.test'], false]],
    ['DANE beats MTA-STS enforce, even unlisted', { sts: enforce, dane: { 'mx.other.test': 'secure' } }, 'mx.other.test', ['dane', 'dane', ['mx.other.test', 'example.test'], false]],
    ['DANE, only unusable records: TLS required', { dane: { 'mx1.example.test': 'unusable' } }, 'mx1.example.test', ['required', 'dane', ['mx1.example.test'], false]],
    ['DANE unusable keeps a stricter floor', { tls: 'verify', dane: { 'mx1.example.test': 'unusable' } }, 'mx1.example.test', ['verify', 'dane', ['mx1.example.test'], false]],
    ['TLSA without AD: ignored', { dane: { 'mx1.example.test': 'insecure' } }, 'mx1.example.test', ['opportunistic', 'opportunistic', ['mx1.example.test'], false]],
    ['TLSA lookup failing for a signed host: refused', { dane: { 'mx1.example.test': 'servfail' } }, 'mx1.example.test', ['4.7.5', 'DANE: TLSA lookup for mx1.example.test failed (SERVFAIL)', false]],
    ['rule none: no TLS, DANE and MTA-STS not consulted', { rules: [{ match: 'example.test', policy: 'none' }], sts: enforce, dane: { 'mx.other.test': 'secure' } }, 'mx.other.test', ['none', 'policy', ['mx.other.test'], false]],
    ['rule verify is a floor MTA-STS keeps', { rules: [{ match: 'example.test', policy: 'verify' }], sts: enforce }, 'mx1.example.test', ['verify', 'mta-sts', ['mx1.example.test'], false]],
    ['rule required + MTA-STS testing: required, audited', { rules: [{ match: 'example.test', policy: 'required' }], sts: testing }, 'mx1.example.test', ['required', 'policy', ['mx1.example.test'], true]],
  ];
  for (const [name, opts, host, want] of table) {
    it(name, async () => {
      const { ts } = security(opts);
      const d = await ts.forDomain('example.test');
      assert.deepEqual(summary(await ts.forHost(d, host, 25)), want);
    });
  }

  it('logs an unlisted MX in testing mode', async () => {
    const { ts, logs } = security({ sts: testing });
    await ts.forHost(await ts.forDomain('example.test'), 'mx9.example.test', 25);
    assert.deepEqual(logs.map((l) => [l.event, l.host, l.violation]), [['delivery.tls_violation', 'mx9.example.test', 'mx9.example.test not in policy']]);
  });

  it('skips DANE for an IP literal host', async () => {
    const { ts } = security({ dane: { '127.0.0.9': 'servfail' } });
    assert.equal((await ts.forHost(await ts.forDomain('example.test'), '127.0.0.9', 25)).ok, true);
  });
});
