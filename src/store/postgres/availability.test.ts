// Which failures count as "PostgreSQL unavailable" (retry later) — a literal table of what
// node-postgres and the server produce. The once-per-outage log: ../store-availability.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isUnavailable } from './availability.js';

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
    [err('could not extend file "base/16384/16400": No space left on device', '53100'), true],
    [err('could not write to file "pg_wal/xlogtemp.123": No space left on device', '53100'), true],
    [err('out of memory', '53200'), true],
    [err('temporary file size exceeds temp_file_limit', '53400'), true],
    [err('could not read block 0 in file "base/16384/16400": Input/output error', '58030'), true],
    [err('could not open file "base/16384/16400": No such file or directory', '58P01'), false],
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
});
