import test from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './log.js';

test('the logger hides secret fields, as values, and keeps flags and everything else', () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('trace', new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } }));
  logger.trace({
    event: 'x', password: 'p1', auth: { user: 'u', pass: 'p2' }, token: 'p3', key: 'p4', secret: 'p5',
    req: { headers: { authorization: 'Bearer p6', cookie: 'postlane_session=p7', host: 'relay.test' } },
    metrics: { token: true }, webhook: { secret: null, url: 'https://hooks.example.com/in' },
  }, 'm');
  const text = JSON.stringify(lines);
  assert.doesNotMatch(text, /p[1-7]\b/);
  const [l] = lines as [Record<string, any>];
  assert.equal(l.auth.user, 'u');
  assert.equal(l.req.headers.host, 'relay.test');
  assert.equal(l.metrics.token, true, 'a flag saying a token is set stays');
  assert.equal(l.webhook.secret, null);
  assert.equal(l.webhook.url, 'https://hooks.example.com/in');
  assert.equal(l.req.headers.authorization, '[redacted]');
});
