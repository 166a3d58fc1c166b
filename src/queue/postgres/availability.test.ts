// Which failures count as "PostgreSQL unavailable" (retry later) — a literal table of what
// node-postgres and the server produce — and the once-per-outage log.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../events/log.js';
import { AvailabilityLog, isUnavailable } from './availability.js';

const err = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe('PostgreSQL availability', () => {
  const cases: [Error, boolean][] = [
    [err('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), true],
    [err('read ECONNRESET', 'ECONNRESET'), true],
    [err('terminating connection due to administrator command', '57P01'), true],
    [err('the database system is starting up', '57P03'), true],
    [err('canceling statement due to statement timeout', '57014'), true],
    [err('connection failure', '08006'), true],
    [err('sorry, too many clients already', '53300'), true],
    [err('could not serialize access', '40001'), true],
    [err('Connection terminated unexpectedly'), true],
    [err('Connection terminated due to connection timeout'), true],
    [err('timeout exceeded when trying to connect'), true],
    [err('Client has encountered a connection error and is not queryable'), true],
    [err('duplicate key value violates unique constraint', '23505'), false],
    [err('syntax error at or near "SELEC"', '42601'), false],
    [err('relation "x" does not exist', '42P01'), false],
    [err('message has no recipients'), false],
  ];
  for (const [e, expected] of cases) {
    it(`${expected ? 'unavailable' : 'not unavailable'}: ${(e as { code?: string }).code ?? '-'} ${e.message}`, () => {
      assert.equal(isUnavailable(e), expected);
    });
  }
  it('handles non-errors', () => {
    assert.equal(isUnavailable(undefined), false);
    assert.equal(isUnavailable('ECONNREFUSED'), false);
  });

  it('logs an outage once when it begins and once when it ends, not at each call in between', async () => {
    const out = new PassThrough();
    const lines: { event?: string; downMs?: number; failedCalls?: number }[] = [];
    out.on('data', (d: Buffer) => { for (const l of d.toString().split('\n')) if (l) lines.push(JSON.parse(l) as typeof lines[number]); });
    let now = 0;
    const log = new AvailabilityLog(createLogger('info', out), () => now);
    log.succeeded();
    for (let i = 0; i < 5; i++) {
      log.failed('put', err('refused', 'ECONNREFUSED'));
      now += 100;
      log.succeeded(); // a call that still got through while the server was going down: not a recovery
    }
    now += 1_000;
    log.succeeded();
    log.succeeded();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(lines.map((l) => l.event), ['queue.unavailable', 'queue.available']);
    assert.equal(lines[1]!.downMs, 1_500);
    assert.equal(lines[1]!.failedCalls, 5);
  });
});
