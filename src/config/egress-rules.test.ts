// The egress configuration: defaults (no sources: today's behaviour), and the bad inputs an
// operator can write, each refused with an error naming the key.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ConfigError } from '../errors.js';
import { loadConfig } from './load.js';
import { capOf, STOCK_SCHEDULE, warmupDay } from './warmup-schedules.js';

const load = (egress: unknown) => loadConfig({ env: {}, overrides: { egress } });
const s = (name: string, address: string, extra: Record<string, unknown> = {}) => ({ name, address, ehlo: `${name}.relay.test`, ...extra });

function refused(egress: unknown, key: string, message: RegExp): void {
  assert.throws(() => load(egress), (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.problems[0]!.key, key);
    assert.match(err.message, message);
    return true;
  });
}

it('no egress config: no sources, the default pool, no routes', () => {
  const c = loadConfig({ env: {} });
  assert.deepEqual([c.egress.sources, c.egress.routes, c.egress.defaultPool, c.egress.checkPtr], [[], [], 'default', true]);
});

it('bad egress config is refused, naming the key', () => {
  refused({ sources: [s('a', '10.0.0.300')] }, 'egress.sources.0.address', /expected an IPv4 or IPv6 address/);
  refused({ sources: [s('a', '0.0.0.0')] }, 'egress.sources.0.address', /lets the system pick/);
  refused({ sources: [s('a', '::')] }, 'egress.sources.0.address', /lets the system pick/);
  refused({ sources: [s('a', '127.0.0.2', { ehlo: 'not a name' })] }, 'egress.sources.0.ehlo', /host name/);
  refused({ sources: [s('a', '127.0.0.2', { warmup: { start: '2026-02-30' } })] }, 'egress.sources.0.warmup.start', /calendar day like "2026-12-01".*"2026-02-30"/);
  refused({ sources: [s('a', '127.0.0.2', { warmup: { start: '12/01/2026' } })] }, 'egress.sources.0.warmup.start', /calendar day/);
  refused({ sources: [s('a', '127.0.0.2', { warmup: { start: '2026-12-01', schedule: 'fast' } })] }, 'egress.sources[0].warmup.schedule', /no schedule "fast"/);
  refused({ sources: [s('a', '127.0.0.2'), s('a', '127.0.0.3')] }, 'egress.sources[1].name', /also the name of egress.sources\[0\]/);
  refused({ sources: [s('a', '127.0.0.2'), s('b', '127.0.0.2')] }, 'egress.sources[1].address', /also the address/);
  refused({ sources: [s('a', '127.0.0.2', { pool: 'bulk' })] }, 'egress.defaultPool', /pool "default" has no source \(pools: bulk\)/);
  refused({ sources: [s('a', '127.0.0.2')], routes: [{ account: 'x', pool: 'nope' }] }, 'egress.routes[0].pool', /pool "nope" has no source/);
  refused({ sources: [s('a', '127.0.0.2')], routes: [{ pool: 'default' }] }, 'egress.routes.0', /at least one of account, stream, sendingDomain/);
  refused({ routes: [{ account: 'x', pool: 'default' }] }, 'egress.routes', /need egress.sources/);
  refused({ warmupSchedules: { slow: [{ day: 2, perProvider: 5 }, { day: 1, perProvider: 9 }] } }, 'egress.warmupSchedules.slow[1].day', /ascend/);
  refused({ sources: [s('a', '127.0.0.2')], unknown: 1 }, 'egress.unknown', /unknown|Unrecognized/i);
});

it('warmup schedule: day N → cap; before day 1 nothing; past the last step warm', () => {
  const start = '2026-12-01';
  const at = (iso: string) => warmupDay(start, Date.parse(iso));
  assert.deepEqual([at('2026-11-30T23:59:59Z'), at('2026-12-01T00:00:00Z'), at('2026-12-01T23:59:59Z'), at('2026-12-03T12:00:00Z')], [0, 1, 1, 3]);
  const tiny = [{ day: 1, perProvider: 10 }, { day: 3, perProvider: 30 }];
  assert.deepEqual([0, 1, 2, 3, 4].map((d) => capOf(tiny, d)), [0, 10, 10, 30, null]);
  assert.deepEqual([1, 2, 21, 22].map((d) => capOf(STOCK_SCHEDULE, d)), [50, 100, 150_000, null]);
});
