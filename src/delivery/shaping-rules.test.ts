import test from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../config/load.js';
import { formatConfig } from '../config/print.js';
import { effectiveLimits, effectiveRules, STOCK_SHAPING } from './shaping-rules.js';

const config = (shaping: unknown) => loadConfig({ env: {}, overrides: { hostname: 'relay.example.com', shaping } });

test('stock rules apply to the big providers; other sites are not shaped', () => {
  const cfg = config({});
  assert.deepEqual(effectiveLimits(cfg.shaping, 'gmail'), STOCK_SHAPING.gmail);
  assert.equal(effectiveLimits(cfg.shaping, 'mx:hoster.example'), null);
  assert.equal(effectiveLimits(config({ enabled: false }).shaping, 'gmail'), null);
});

test('overrides: per provider, then per pool and per account in order; a new provider is shaped', () => {
  const cfg = config({
    providers: { gmail: { perMinute: 100 }, 'mx:hoster.example': { maxConnections: 2 } },
    overrides: [
      { provider: 'gmail', account: 'acme', perMinute: 10, maxConnections: 1 },
      { pool: 'warm', perHour: 50 },
      { provider: 'gmail', pool: 'warm', account: 'acme', perMinute: 5 },
    ],
  });
  const g = STOCK_SHAPING.gmail!;
  assert.deepEqual(effectiveLimits(cfg.shaping, 'gmail'), { ...g, perMinute: 100 });
  assert.deepEqual(effectiveLimits(cfg.shaping, 'gmail', 'default', 'acme'), { ...g, perMinute: 10, maxConnections: 1 });
  assert.deepEqual(effectiveLimits(cfg.shaping, 'gmail', 'warm', 'acme'), { ...g, perMinute: 5, maxConnections: 1, perHour: 50 });
  assert.deepEqual(effectiveLimits(cfg.shaping, 'mx:hoster.example'), { maxConnections: 2, messagesPerConnection: null, perSecond: null, perMinute: null, perHour: null });
  assert.ok(effectiveRules(cfg.shaping).some((r) => r.provider === 'mx:hoster.example'));
});

test('bad shaping config names the key', () => {
  assert.throws(() => config({ providers: { gmail: { perMinute: -1 } } }), /shaping\.providers\.gmail\.perMinute/);
  assert.throws(() => config({ actions: [{ name: 'x', match: '(' }] }), /shaping\.actions\.0\.match/);
  assert.throws(() => config({ providers: { Gmail: {} } }), /shaping\.providers/);
});

test('`postlane config` shows the effective rules', () => {
  const text = formatConfig(config({ providers: { gmail: { perMinute: 100 } } }), 'yaml', 'test');
  assert.match(text, /# effective shaping rules/);
  assert.match(text, /#   gmail\s+10\s+50\s+-\s+100\s+30000/);
});
