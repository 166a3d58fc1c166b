// `postlane config` output: durations and sizes back in human units (a literal table, and
// format → parse as a property), secrets hidden, and the printed YAML loads back to the same config.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import YAML from 'yaml';
import { loadConfig } from './load.js';
import { formatConfig, presentConfig } from './print.js';
import { formatDuration, formatSize, parseDurationMs, parseSizeBytes } from './units.js';

test('durations and sizes are formatted as people write them', () => {
  const durations: [number, string][] = [
    [432_000_000, '5d'], [604_800_000, '7d'], [14_400_000, '4h'], [5_400_000, '1h30m'], [300_000, '5m'], [90_000, '1m30s'],
    [1000, '1s'], [250, '250ms'], [1500, '1s500ms'], [0, '0s'],
  ];
  for (const [ms, want] of durations) assert.equal(formatDuration(ms), want, `${ms} ms`);
  const sizes: [number, string][] = [[26_214_400, '25MB'], [41_943_040, '40MB'], [524_288, '512KB'], [1024 ** 3, '1GB'], [1536, '1536B'], [1000, '1000B'], [0, '0B']];
  for (const [bytes, want] of sizes) assert.equal(formatSize(bytes), want, `${bytes} bytes`);
});

test('format then parse gives back the same number', () => {
  fc.assert(fc.property(fc.nat({ max: 400 * 86_400_000 }), (ms) => parseDurationMs(formatDuration(ms)) === ms));
  fc.assert(fc.property(fc.nat({ max: 2 ** 40 }), (bytes) => parseSizeBytes(formatSize(bytes)) === bytes));
});

test('the effective config is shown in human units, secrets hidden, and loads back unchanged', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postlane-print-'));
  const cfg = loadConfig({ env: {}, overrides: {
    hostname: 'relay.example.com', dataDir: dir, 'dns.servers': ['1.1.1.1', '[::1]:5300'], 'limits.maxMessageSize': '10MB',
    'delivery.maxQueueTime': '3d', 'storage.retainFinished': '36h',
  } });
  const shown = presentConfig(cfg) as { delivery: Record<string, unknown>; limits: Record<string, unknown>; dns: { servers: unknown }; storage: Record<string, unknown>; smtp: { auth: Record<string, unknown> } };
  assert.equal(shown.delivery.maxQueueTime, '3d');
  assert.equal(shown.delivery.delayWarning, '4h');
  assert.deepEqual(shown.delivery.retrySchedule, { initial: '5m', factor: 2, max: '4h', jitter: 0.1 });
  assert.equal(shown.limits.maxMessageSize, '10MB');
  assert.equal(shown.limits.maxRecipients, 100, 'plain numbers stay numbers');
  assert.equal(shown.storage.retainFinished, '1d12h');
  assert.deepEqual(shown.dns.servers, ['1.1.1.1:53', '[::1]:5300']);
  assert.equal(shown.smtp.auth.lockout, '15m');

  const file = path.join(dir, 'printed.yaml');
  fs.writeFileSync(file, formatConfig(cfg, 'yaml', 'test'));
  assert.deepEqual(loadConfig({ file, env: {} }), cfg);
  assert.deepEqual(JSON.parse(formatConfig(cfg, 'json', 'test')), YAML.parse(fs.readFileSync(file, 'utf8')));
});

test('passwords and URL credentials are hidden', () => {
  const cfg = loadConfig({ env: {}, overrides: {
    hostname: 'relay.example.com',
    'delivery.smarthost': { host: 'smtp.upstream.test', port: 587, auth: { user: 'relay', pass: 'hunter2-secret' }, tls: 'required' },
    'storage.url': 'postgres://postlane:db-secret@db.internal/postlane',
  } });
  const text = formatConfig(cfg, 'yaml', 'test');
  assert.ok(!text.includes('hunter2-secret') && !text.includes('db-secret'), text);
  const shown = YAML.parse(text) as { delivery: { smarthost: { auth: unknown } }; storage: { url: string } };
  assert.deepEqual(shown.delivery.smarthost.auth, { user: 'relay', pass: '[redacted]' });
  assert.equal(shown.storage.url, 'postgres://postlane:[redacted]@db.internal/postlane');
});
