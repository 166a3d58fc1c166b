import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { configuredRequirement, findTlsPolicy, isStricter, requirementKey, requiresTls, type TlsPolicyRule, type TlsRequirement } from './tls-policy.js';

describe('findTlsPolicy (first match wins)', () => {
  const rules: TlsPolicyRule[] = [
    { match: 'example.com', policy: 'verify' },
    { match: '.example.com', policy: 'required' },
    { match: '.com', policy: 'opportunistic' },
    { match: 'legacy.test', policy: 'none' },
  ];
  const cases: [string, string | null][] = [
    ['example.com', 'verify'],
    ['EXAMPLE.com.', 'verify'],
    ['mx.example.com', 'required'],
    ['a.b.example.com', 'required'],
    ['badexample.com', 'opportunistic'],
    ['other.com', 'opportunistic'],
    ['legacy.test', 'none'],
    ['sub.legacy.test', null],
    ['example.org', null],
  ];
  for (const [domain, want] of cases) it(`${domain} → ${want}`, () => assert.equal(findTlsPolicy(rules, domain)?.policy ?? null, want));
});

describe('configuredRequirement', () => {
  const delivery = (tls: string, tlsPolicies: unknown[] = []) => loadConfig({ env: {}, overrides: { 'delivery.tls': tls, 'delivery.tlsPolicies': tlsPolicies } }).delivery;
  it('the default delivery.tls, opportunistic by default', () => {
    assert.deepEqual(configuredRequirement(delivery('opportunistic'), 'x.test'), { level: 'opportunistic', source: 'opportunistic', names: [], tlsa: [] });
    assert.deepEqual(configuredRequirement(delivery('required'), 'x.test'), { level: 'required', source: 'policy', names: [], tlsa: [] });
  });
  it('a matching rule, its match normalised by the config loader', () => {
    const d = delivery('required', [{ match: 'Partner.Test.', policy: 'verify' }, { match: '.lax.test', policy: 'opportunistic' }]);
    assert.deepEqual(configuredRequirement(d, 'partner.test'), { level: 'verify', source: 'policy', names: [], tlsa: [] });
    assert.deepEqual(configuredRequirement(d, 'mx.lax.test'), { level: 'opportunistic', source: 'policy', names: [], tlsa: [] });
    assert.equal(configuredRequirement(d, 'other.test').level, 'required');
  });
  it('rejects malformed rules, naming the key', () => {
    assert.throws(() => delivery('opportunistic', [{ match: 'a b', policy: 'verify' }]), (e: unknown) => e instanceof ConfigError && /delivery\.tlsPolicies\.0\.match/.test(e.message));
    assert.throws(() => delivery('opportunistic', [{ match: 'a.test', policy: 'dane' }]), ConfigError);
    assert.throws(() => delivery('opportunistic', [{ match: 'a.test', policy: 'none', extra: 1 }]), ConfigError);
  });
});

describe('levels', () => {
  it('rank none < opportunistic < required < verify < dane', () => {
    const order = ['none', 'opportunistic', 'required', 'verify', 'dane'] as const;
    for (let i = 1; i < order.length; i++) assert.ok(isStricter(order[i]!, order[i - 1]!), `${order[i]} > ${order[i - 1]}`);
    assert.deepEqual(order.map(requiresTls), [false, false, true, true, true]);
  });
  it('requirementKey tells requirements apart', () => {
    const base: TlsRequirement = { level: 'verify', source: 'mta-sts', names: ['mx.a.test'], tlsa: [] };
    const keys = [
      base, { ...base, source: 'policy' }, { ...base, names: ['mx.b.test'] }, { ...base, audit: true }, { ...base, level: 'required' },
      { ...base, level: 'dane', tlsa: [{ usage: 3, selector: 1, matchingType: 1, data: Buffer.from('ab', 'hex') }] },
    ].map((r) => requirementKey(r as TlsRequirement));
    assert.equal(new Set(keys).size, keys.length);
    assert.equal(requirementKey({ ...base }), keys[0]);
  });
});
