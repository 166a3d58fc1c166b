import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSuppressionsCsv, parseCsv, parseSuppressionsCsv } from './suppression-csv.js';
import type { Suppression } from '../store/suppression-store.js';

const entry = (address: string, over: Partial<Suppression> = {}): Suppression => ({
  account: 'acme', address, scope: 'all', reason: 'hard-bounce', source: 'ev_12', messageId: 'M1', detail: null, createdAt: Date.UTC(2026, 0, 2), ...over,
});

test('RFC 4180 records: quotes, escaped quotes, commas and line breaks in quoted fields, CRLF and LF, blank lines', () => {
  assert.deepEqual(parseCsv('a,"b,c",d\r\n"x ""y"" z","multi\nline",\n\n last ,\r\n'), [
    { line: 1, fields: ['a', 'b,c', 'd'] }, { line: 2, fields: ['x "y" z', 'multi\nline', ''] }, { line: 5, fields: [' last ', ''] },
  ]);
  assert.deepEqual(parseCsv('no newline at end'), [{ line: 1, fields: ['no newline at end'] }]);
});

test('export then import gives the same entries; detail with commas, quotes and a line break survives', () => {
  const csv = formatSuppressionsCsv([entry('a@x.example', { detail: '550 5.1.1 "no", such\nuser' }), entry('b@x.example', { scope: 'broadcast', reason: 'unsubscribe', source: null, messageId: null })]);
  assert.match(csv, /^email,scope,reason,created_at,source,message_id,detail\r\na@x\.example,all,hard-bounce,2026-01-02T00:00:00\.000Z,ev_12,M1,"550 5\.1\.1 ""no"", such\nuser"\r\n/);
  assert.deepEqual(parseSuppressionsCsv(csv), { errors: [], rows: [
    { email: 'a@x.example', scope: 'all', reason: 'hard-bounce', detail: '550 5.1.1 "no", such\nuser' },
    { email: 'b@x.example', scope: 'broadcast', reason: 'unsubscribe', detail: null },
  ] });
});

test('import: a bare list, other providers\' headers, bad rows reported by line, unknown reasons become manual', () => {
  assert.deepEqual(parseSuppressionsCsv('x@a.example\ny@b.example\n').rows.map((r) => r.email), ['x@a.example', 'y@b.example']);
  const r = parseSuppressionsCsv('\uFEFFAddress,Reason,Note\r\nok@a.example,bounce,from the old provider\r\nnot-an-address,manual,\r\n"bad@a.example",complaint,"x"\r\n');
  assert.deepEqual(r.rows, [
    { email: 'ok@a.example', scope: 'all', reason: 'manual', detail: 'from the old provider' },
    { email: 'bad@a.example', scope: 'all', reason: 'complaint', detail: 'x' },
  ]);
  assert.deepEqual(r.errors, [{ line: 3, message: 'not an email address: "not-an-address"' }]);
  assert.deepEqual(parseSuppressionsCsv('email,scope\nz@a.example,everything\n').errors, [{ line: 2, message: 'scope must be all or broadcast, not "everything"' }]);
});
