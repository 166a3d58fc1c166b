// The terminal form of log lines: level, event, message, then the other fields as key=value.
import test from 'node:test';
import assert from 'node:assert/strict';
import { formatLogLine, ttyLogDestination } from './tty-log.js';

test('a JSON log line becomes one readable line', () => {
  const line = JSON.stringify({ level: 40, time: '2026-01-02T03:04:05.000Z', svc: 'postlane', event: 'tls.self_signed', dir: '/srv/data/tls', msg: 'generated a self-signed certificate' });
  assert.match(formatLogLine(line), /^\d\d:\d\d:\d\d {2}WARN {3}tls\.self_signed {2}generated a self-signed certificate {2}dir=\/srv\/data\/tls\n$/);
  const fields = JSON.stringify({ level: 30, time: 0, event: 'smtp.listening', msg: 'listening', port: 1587, tls: false, note: 'two words', to: { a: 1 }, err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' } });
  assert.match(formatLogLine(fields), / {2}INFO {3}smtp\.listening {2}listening {2}port=1587 tls=false note="two words" to=\{"a":1\} err="boom"\n$/);
  assert.equal(formatLogLine('not json'), 'not json\n');
});

test('colour only on the level word, and not with NO_COLOR', () => {
  const line = JSON.stringify({ level: 50, time: 0, event: 'x', msg: 'failed' });
  assert.match(formatLogLine(line, true), / {2}\x1b\[31mERROR\x1b\[0m {2}x {2}failed\n$/);
  const written: string[] = [];
  const out = { write: (s: string) => { written.push(s); return true; } } as unknown as NodeJS.WriteStream;
  ttyLogDestination(out, { NO_COLOR: '1' }).write(`${line}\n${line}\n`);
  assert.equal(written.length, 1);
  assert.equal(written[0]!.split('\n').length, 3, 'two lines');
  assert.ok(!written[0]!.includes('\x1b'));
});
