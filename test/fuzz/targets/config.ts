// Fuzz target: the config loader (src/config/load.ts + schema.ts: YAML → zod, layered with
// POSTLANE_* variables). Properties: any YAML text and environment either loads or throws a
// ConfigError whose key names where (never a raw exception); a loaded config has only finite
// numbers, every timer duration fits a Node timer (≤ 2^31-1 ms), every size is a safe integer,
// and it is frozen.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import YAML from 'yaml';
import { loadConfigText } from '../../../src/config/load.js';
import { MAX_PERIOD_MS, MAX_TIMER_MS } from '../../../src/config/schema.js';
import { ConfigError } from '../../../src/errors.js';
import { corpusOf } from '../corpus.js';
import type { FuzzTarget } from '../harness.js';

interface Input { yaml: string; env: Record<string, string> }

const TIMERS = ['smtp.commandTimeout', 'smtp.preAuthTimeout', 'smtp.dataTimeout', 'smtp.auth.failureDelay', 'dns.timeout', 'delivery.connectTimeout',
  'delivery.commandTimeout', 'delivery.idleConnectionTimeout', 'delivery.pollInterval', 'delivery.leaseTime', 'delivery.retrySchedule.initial',
  'delivery.retrySchedule.max', 'storage.statementTimeout', 'storage.connectTimeout', 'webhooks.timeout', 'webhooks.pollInterval'];
const PERIODS = ['smtp.auth.failureWindow', 'smtp.auth.lockout', 'delivery.maxQueueTime', 'storage.retainFinished', 'events.retention', 'webhooks.retryFor', 'webhooks.disableAfter'];
const SIZES = ['limits.maxMessageSize', 'http.bodyLimit'];
const OTHER_KEYS = ['hostname', 'dataDir', 'localDomains', 'smtp.submission', 'smtp.mx.port', 'smtp.alt', 'smtp.submissions.proxyProtocol', 'smtp.submissions.proxyProtocol.trusted',
  'smtp.relayNetworks', 'smtp.maxConnections', 'tls.cert', 'tls.key', 'dns.servers', 'delivery.port', 'delivery.smarthost', 'delivery.smarthost.port', 'delivery.retrySchedule.factor',
  'delivery.retrySchedule.jitter', 'delivery.delayWarning', 'delivery.tls', 'delivery.tlsPolicies', 'domains.bounceDomain', 'domains.bounceDomain.label', 'domains.spf',
  'limits.maxLineLength', 'limits.maxRecipients', 'storage.url', 'http', 'http.port', 'http.trustProxy', 'metrics.token', 'publicUrl', 'tracking.streams',
  'suppression.softBounces', 'suppression.softBounces.window', 'webhooks.batchSize', 'log.level', 'nosuch', 'smtp.nosuch', '__proto__', 'constructor'];

const get = (o: unknown, key: string): unknown => key.split('.').reduce<unknown>((n, k) => (n && typeof n === 'object' ? (n as Record<string, unknown>)[k] : undefined), o);

function checkNumbers(o: unknown, at: string): void {
  if (typeof o === 'number') assert.ok(Number.isFinite(o), `${at} is ${o}`);
  else if (o && typeof o === 'object') {
    assert.ok(Object.isFrozen(o), `${at} is frozen`);
    for (const [k, v] of Object.entries(o)) checkNumbers(v, at ? `${at}.${k}` : k);
  }
}

export function checkConfig(input: Input): void {
  let cfg;
  try {
    cfg = loadConfigText(input.yaml, { env: input.env, baseDir: '/srv/postlane' });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${(err as Error)?.stack ?? String(err)}`);
    assert.ok(typeof err.key === 'string' && err.key.length > 0 && err.message.includes(err.key.replace(/^\(top level\)$/, '')), `the error names its key: ${err.key} / ${err.message.slice(0, 200)}`);
    assert.equal(err.code, 'ERR_CONFIG_INVALID');
    return;
  }
  checkNumbers(cfg, '');
  for (const k of TIMERS) { const v = get(cfg, k); if (typeof v === 'number') assert.ok(v >= 0 && v <= MAX_TIMER_MS, `${k} = ${v} ms does not fit a timer`); }
  for (const k of PERIODS) { const v = get(cfg, k); if (typeof v === 'number') assert.ok(v >= 0 && v <= MAX_PERIOD_MS, `${k} = ${v}`); }
  for (const k of SIZES) { const v = get(cfg, k); if (typeof v === 'number') assert.ok(Number.isSafeInteger(v) && v >= 0, `${k} = ${v}`); }
}

// ---- Inputs: documents over the schema's keys with hostile values ----
const scalar = fc.oneof(
  fc.constantFrom(0, -1, 1, 1.5, 30, 2147483, 2147484, 2147483647, 2147483648, 1e15, 1e308, -0, 0.0001, 65535, 65536, 999999999999999999999),
  fc.constantFrom('5m', '30s', '24d', '25d', '3w', '4w', '1h30m', '250ms', '2147483647ms', '2147483648ms', '1e3s', '', ' ', 'NaN', 'Infinity', '-1s', '9'.repeat(400),
    `${'9'.repeat(400)}d`, '0.0000001ms', '25MB', '40MB', `${'9'.repeat(30)}GB`, '1.5k', 'relay.example.com', '127.0.0.1', '::1', '10.0.0.0/8', '10.0.0.0/99', '[::1]:53',
    'host:0', 'host:65536', 'postgres://x', 'https://relay.example', 'verify', 'broadcast', 'info', 'bounces', 'x'.repeat(300)),
  fc.boolean(), fc.constant(null), fc.string({ maxLength: 12 }), fc.integer(), fc.double(),
);
const value = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('host', 'port', 'trusted', 'required', 'match', 'policy', 'label', 'target', 'x'), tie('v'), { maxKeys: 3 })),
})).v;
const KEYS = [...TIMERS, ...PERIODS, ...SIZES, ...OTHER_KEYS];
const doc = fc.array(fc.tuple(fc.constantFrom(...KEYS), value), { maxLength: 8 }).map((pairs) => {
  const root: Record<string, unknown> = {};
  for (const [key, v] of pairs) {
    const parts = key.split('.');
    let node = root;
    for (const p of parts.slice(0, -1)) { if (!node[p] || typeof node[p] !== 'object') Object.defineProperty(node, p, { value: {}, enumerable: true, writable: true, configurable: true }); node = node[p] as Record<string, unknown>; }
    Object.defineProperty(node, parts[parts.length - 1]!, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return YAML.stringify(root);
});
const env = fc.dictionary(fc.constantFrom('POSTLANE_DELIVERY_CONNECT_TIMEOUT', 'POSTLANE_SMTP_COMMAND_TIMEOUT', 'POSTLANE_LIMITS_MAX_MESSAGE_SIZE', 'POSTLANE_HTTP',
  'POSTLANE_NOSUCH', 'POSTLANE_', 'POSTLANE_SMTP_MX_PORT', 'POSTLANE_EVENTS_RETENTION', 'HOME'), fc.oneof(scalar.map(String), fc.constantFrom('{', '[1,2', '*a', '!!binary x')), { maxKeys: 2 });
const rawText = fc.oneof(fc.string({ maxLength: 200 }), fc.array(fc.constantFrom('a: 1\n', 'smtp:\n', '  mx: ', '&x ', '*x', '<<: *x\n', '- ', '{', '}', '[', ']', '"', "'", '\t', ': ', '!!str ', '!!js/function ', '%YAML 1.2\n', '---\n', '...\n', '? ', '#'), { maxLength: 30 }).map((t) => t.join('')));

export const configTarget: FuzzTarget<Input> = {
  name: 'config',
  arbitrary: fc.oneof(fc.record({ yaml: doc, env }), fc.record({ yaml: rawText, env: fc.constant({}) })),
  corpus: () => corpusOf('fuzz/config'),
  fromBytes: (b) => ({ yaml: b.toString('utf8'), env: {} }),
  check: checkConfig,
  tokens: ['\n', ': ', '  ', '- ', '5m', '2147484', '99999999999999999999', '25d', 'false', 'null', '~', '&a ', '*a', '<<: ', '{', '[', '"', '#', '0x10', '.inf', '.nan', '1e400'],
  show: (i) => JSON.stringify(i),
};
