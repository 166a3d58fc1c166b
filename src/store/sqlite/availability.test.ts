// Which failures of the embedded store count as "storage unavailable" (retry later: 451, delivery
// pauses and keeps outcomes): a literal table of SQLite result codes and spool-file errnos.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isUnavailable } from './availability.js';

describe('SQLite store availability', () => {
  const cases: [unknown, boolean][] = [
    ['SQLITE_FULL', true],
    ['SQLITE_IOERR', true],
    ['SQLITE_IOERR_WRITE', true],
    ['SQLITE_IOERR_FSYNC', true],
    ['SQLITE_IOERR_SHMSIZE', true],
    ['SQLITE_BUSY', true],
    ['SQLITE_BUSY_TIMEOUT', true],
    ['ENOSPC', true],
    ['EDQUOT', true],
    ['EIO', true],
    ['EROFS', true],
    ['SQLITE_CONSTRAINT_PRIMARYKEY', false],
    ['SQLITE_ERROR', false],
    ['SQLITE_CORRUPT', false],
    ['SQLITE_FULLX', false],
    ['EEXIST', false],
    ['ENOENT', false],
    [undefined, false],
    [28, false],
  ];
  for (const [code, expected] of cases) {
    it(`${expected ? 'unavailable' : 'not unavailable'}: ${String(code)}`, () => assert.equal(isUnavailable(code), expected));
  }
});
