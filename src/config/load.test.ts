import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, envOverrides } from './load.js';
import { parseDurationMs, parseSizeBytes } from './units.js';
import { ConfigError } from '../errors.js';

const tmpFile = (text: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postlane-cfg-'));
  const file = path.join(dir, 'postlane.yaml');
  fs.writeFileSync(file, text);
  return { dir, file };
};

test('durations and sizes parse as documented', () => {
  const durations: [string | number, number | null][] = [
    ['5m', 300_000], ['5d', 432_000_000], ['1h30m', 5_400_000], ['250ms', 250], ['90', 90_000], [2, 2000],
    ['', null], ['5 minutes', null], ['m5', null], ['-1s', null],
  ];
  for (const [input, want] of durations) assert.equal(parseDurationMs(input), want, `duration ${input}`);
  const sizes: [string | number, number | null][] = [
    ['25MB', 26_214_400], ['512KB', 524_288], ['1000', 1000], [4096, 4096], ['1.5k', 1536], ['ten', null], ['5XB', null],
  ];
  for (const [input, want] of sizes) assert.equal(parseSizeBytes(input), want, `size ${input}`);
});

test('defaults: unprivileged ports on loopback, SQLite under ./data', () => {
  const cfg = loadConfig({ env: {} });
  assert.deepEqual(cfg.smtp.submission, { host: '127.0.0.1', port: 1587, proxyProtocol: false });
  assert.deepEqual(cfg.smtp.mx, { host: '127.0.0.1', port: 2500, proxyProtocol: false });
  assert.equal(cfg.delivery.port, 25);
  assert.equal(cfg.delivery.maxQueueTime, 5 * 86_400_000);
  assert.equal(cfg.limits.maxMessageSize, 25 * 1024 * 1024);
  assert.equal(cfg.limits.maxLineLength, 1000, '998 octets + CRLF (RFC 5322 2.1.1)');
  assert.deepEqual(cfg.metrics, { host: '127.0.0.1', port: 9025, token: null, tls: false }, 'metrics on a listener of their own, loopback');
  assert.equal(cfg.dataDir, path.resolve('./data'));
  assert.ok(Object.isFrozen(cfg.delivery));
});

test('the YAML file of the issue parses, listeners can be disabled, paths resolve against the file', () => {
  const { dir, file } = tmpFile(`
hostname: relay.example.com
dataDir: ./data
smtp:
  submission:  { host: 0.0.0.0, port: 587 }
  submissions: false
  alt:         { host: 0.0.0.0, port: 2525 }
  mx:          { host: 0.0.0.0, port: 25 }
tls: { cert: ./tls/cert.pem, key: ./tls/key.pem }
dns: { servers: ["1.1.1.1", "127.0.0.1:5353", "[::1]:5300"] }
delivery:
  port: 25
  smarthost: null
  maxQueueTime: 5d
limits: { maxMessageSize: 25MB, maxRecipients: 100 }
`);
  const cfg = loadConfig({ file, env: {} });
  assert.equal(cfg.hostname, 'relay.example.com');
  assert.equal(cfg.smtp.submissions, false);
  assert.equal(cfg.tls.cert, path.join(dir, 'tls/cert.pem'));
  assert.equal(cfg.dataDir, path.join(dir, 'data'));
  assert.deepEqual(cfg.dns.servers, [{ host: '1.1.1.1', port: 53 }, { host: '127.0.0.1', port: 5353 }, { host: '::1', port: 5300 }]);
});

test('environment overrides any key, typed, with camelCase keys matched across underscores', () => {
  const cfg = loadConfig({ env: {
    POSTLANE_DELIVERY_PORT: '2526',
    POSTLANE_LIMITS_MAX_MESSAGE_SIZE: '10MB',
    POSTLANE_DELIVERY_RETRYSCHEDULE_INITIAL: '1s',
    POSTLANE_SMTP_MX: 'false',
    POSTLANE_DELIVERY_SMARTHOST: 'upstream.example:587',
  } });
  assert.equal(cfg.delivery.port, 2526);
  assert.equal(cfg.limits.maxMessageSize, 10 * 1024 * 1024);
  assert.equal(cfg.delivery.retrySchedule.initial, 1000);
  assert.equal(cfg.smtp.mx, false);
  assert.deepEqual(cfg.delivery.smarthost, { host: 'upstream.example', port: 587, auth: null, tls: 'opportunistic' });
});

test('errors name the bad key', () => {
  const bad: [string, RegExp][] = [
    ['delivery: { port: "x" }', /delivery\.port/],
    ['delivery: { maxQueueTime: soon }', /delivery\.maxQueueTime/],
    ['limits: { maxRecipent: 5 }', /limits.*maxRecipent/],
    ['smtp: { submission: { host: a, port: 70000 } }', /smtp\.submission\.port/],
    ['tls: { cert: ./c.pem }', /at tls:/],
    ['hostname: [1', /invalid YAML/],
    ['metrics: { token: short }', /metrics\.token: at least 16 characters/],
    ['metrics: { token: "has a space in the token" }', /metrics\.token: printable ASCII/],
  ];
  for (const [yaml, re] of bad) {
    const { file } = tmpFile(yaml);
    assert.throws(() => loadConfig({ file, env: {} }), (err: unknown) => err instanceof ConfigError && re.test(err.message), yaml);
  }
  assert.throws(() => envOverrides({ POSTLANE_DELIVERY_PROT: '1' }), /POSTLANE_DELIVERY_PROT: no such configuration key/);
  assert.equal(loadConfig({ env: { POSTLANE_METRICS: 'false' } }).metrics, false);
  const withToken = loadConfig({ env: { POSTLANE_METRICS_TOKEN: 'prometheus-0123456789' } }).metrics;
  assert.ok(withToken !== false && withToken.token === 'prometheus-0123456789' && withToken.port === 9025);
});

test('every problem of a config is reported, each with its key path, in one error', () => {
  const { file } = tmpFile('delivery: { port: 0, maxQueueTime: soon }\nlimits: { maxMessageSize: huge }\nsmtp: { submission: yes, mx: { port: 70000 } }\nfoo: 1\n');
  assert.throws(() => loadConfig({ file, env: {} }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems, [
      { key: 'smtp.submission', message: 'expected false or object' },
      { key: 'smtp.mx.port', message: 'Number must be less than or equal to 65535' },
      { key: 'delivery.port', message: 'Number must be greater than or equal to 1' },
      { key: 'delivery.maxQueueTime', message: 'expected a duration like "30s", "5m", "5d"' },
      { key: 'limits.maxMessageSize', message: 'expected a size like "25MB", "512KB" or bytes' },
      { key: 'foo', message: 'unknown key' },
    ]);
    assert.equal(err.message.split('\n')[0], `invalid configuration in ${file} (6 problems):`);
    assert.match(err.message, /^  delivery\.maxQueueTime: expected a duration like "30s", "5m", "5d"$/m);
    return true;
  });
  // one problem: one line, the key named once
  const one = tmpFile('delivery: { maxQueueTime: soon }');
  assert.throws(() => loadConfig({ file: one.file, env: {} }), { message: 'invalid configuration at delivery.maxQueueTime: expected a duration like "30s", "5m", "5d"' });
});

test('POSTLANE_CONFIG and POSTLANE_DEBUG are not configuration keys', () => {
  assert.deepEqual(envOverrides({ POSTLANE_CONFIG: '/etc/postlane.yaml', POSTLANE_DEBUG: '1' }), []);
});

test('smtp.<listener>.proxyProtocol: off by default; trusted IP/CIDR list, required by default; bad entries name the key', () => {
  const cfg = loadConfig({ env: { POSTLANE_SMTP_MX_PROXY_PROTOCOL: '{ trusted: [10.0.0.0/8, "2001:db8::/32"] }' } });
  assert.deepEqual(cfg.smtp.mx, { host: '127.0.0.1', port: 2500, proxyProtocol: { trusted: ['10.0.0.0/8', '2001:db8::/32'], required: true } });
  assert.equal(cfg.smtp.submission === false ? null : cfg.smtp.submission.proxyProtocol, false);
  const bad: [unknown, RegExp][] = [
    [{ trusted: [] }, /smtp\.mx\.proxyProtocol\.trusted/],
    [{ trusted: ['10.0.0.0/33'] }, /smtp\.mx\.proxyProtocol\.trusted\.0/],
    [{ trusted: ['lb.example'] }, /smtp\.mx\.proxyProtocol\.trusted\.0/],
    [{ trusted: ['10.0.0.1'], requird: false }, /smtp\.mx\.proxyProtocol/],
  ];
  for (const [value, re] of bad) {
    assert.throws(() => loadConfig({ env: {}, overrides: { 'smtp.mx': { proxyProtocol: value } } }), (err: unknown) => err instanceof ConfigError && re.test(err.message), JSON.stringify(value));
  }
});

test('durations used as timers are bounded by what setTimeout can wait (2^31-1 ms); the error names the key', () => {
  // 2147484 meant as seconds (or any duration over 24.8 days) overflowed Node's timers: a
  // TimeoutOverflowWarning, and the timeout became 1 ms.
  const refused: [string, string][] = [
    ['delivery:\n  connectTimeout: 2147484\n', 'delivery.connectTimeout'],
    ['smtp:\n  commandTimeout: 25d\n', 'smtp.commandTimeout'],
    ['dns:\n  timeout: 4w\n', 'dns.timeout'],
    ['webhooks:\n  pollInterval: 2147483648ms\n', 'webhooks.pollInterval'],
    ['storage:\n  statementTimeout: 30d\n', 'storage.statementTimeout'],
    [`delivery:\n  maxQueueTime: ${'9'.repeat(400)}\n`, 'delivery.maxQueueTime'],
    [`limits:\n  maxMessageSize: ${'9'.repeat(400)}MB\n`, 'limits.maxMessageSize'],
  ];
  for (const [yaml, key] of refused) {
    const { file } = tmpFile(yaml);
    assert.throws(() => loadConfig({ file, env: {} }), (err: unknown) => err instanceof ConfigError && err.key === key, yaml);
  }
  const { file } = tmpFile('delivery:\n  connectTimeout: 2147483ms\nsmtp:\n  commandTimeout: 24d\nevents:\n  retention: 365d\n');
  const cfg = loadConfig({ file, env: {} });
  assert.equal(cfg.smtp.commandTimeout, 24 * 86_400_000);
  assert.equal(cfg.events.retention, 365 * 86_400_000, 'a retention is no timer: it may be longer');
});

test('an empty key is named in the error (found by fuzzing)', () => {
  for (const yaml of [': 1\n', 'smtp:\n  "": 2\n']) {
    const { file } = tmpFile(yaml);
    assert.throws(() => loadConfig({ file, env: {} }), (err: unknown) => err instanceof ConfigError && err.key !== '' && !err.key.endsWith('.') && err.message.includes(err.key), yaml);
  }
});

test('YAML warnings (an unknown tag or directive, a mapping as a key) are errors, not a process warning and a guess (found by fuzzing)', () => {
  for (const yaml of ['delivery:\n  connectTimeout: !!js/function 30s\n', '%FOO bar\n---\nhostname: relay.example\n', '? { a: 1 }\n: 2\n', 'hostname: !custom relay.example\n']) {
    const { file } = tmpFile(yaml);
    const warned: unknown[] = [];
    const onWarning = (w: unknown) => warned.push(w);
    process.on('warning', onWarning);
    try {
      assert.throws(() => loadConfig({ file, env: {} }), (err: unknown) => err instanceof ConfigError && err.key === 'config', yaml);
    } finally { process.off('warning', onWarning); }
  }
});

test('smtp.relayNetworks takes only valid addresses and prefixes; the error names the entry (not a bare error at start)', () => {
  for (const bad of ['10.0.0.0/33', '010.0.0.1', '::1/129', '300.1.1.1/8']) {
    const { file } = tmpFile(`smtp:\n  relayNetworks: ["127.0.0.0/8", "${bad}"]\n`);
    assert.throws(() => loadConfig({ file, env: {} }), (err: unknown) => err instanceof ConfigError && err.key === 'smtp.relayNetworks.1', bad);
  }
  const { file } = tmpFile('smtp:\n  relayNetworks: ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]\n');
  assert.deepEqual(loadConfig({ file, env: {} }).smtp.relayNetworks, ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']);
});

test('storage.sqliteThread: worker by default; main from the file or POSTLANE_STORAGE_SQLITE_THREAD; another value is refused, naming the key and the value', () => {
  assert.equal(loadConfig({ env: {} }).storage.sqliteThread, 'worker');
  const { file } = tmpFile('storage:\n  sqliteThread: main\n');
  assert.equal(loadConfig({ file, env: {} }).storage.sqliteThread, 'main');
  for (const name of ['POSTLANE_STORAGE_SQLITE_THREAD', 'POSTLANE_STORAGE_SQLITETHREAD']) {
    assert.equal(loadConfig({ env: { [name]: 'main' } }).storage.sqliteThread, 'main', name);
  }
  const bad = tmpFile('storage:\n  sqliteThread: inline\n');
  assert.throws(() => loadConfig({ file: bad.file, env: {} }),
    (err: unknown) => err instanceof ConfigError && err.key === 'storage.sqliteThread' && /storage\.sqliteThread/.test(err.message) && /'worker' \| 'main'/.test(err.message) && /inline/.test(err.message),
    'the file');
  assert.throws(() => loadConfig({ env: { POSTLANE_STORAGE_SQLITE_THREAD: 'thread' } }),
    (err: unknown) => err instanceof ConfigError && /storage\.sqliteThread/.test(err.message) && /thread'/.test(err.message), 'the environment');
});
