// How a failed command is reported: the line for each kind of error and the exit code.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, NotFoundError, RelayError } from '../errors.js';
import { describeFailure, isDebug } from './failure.js';

const sysError = (fields: Record<string, unknown>) => Object.assign(new Error(String(fields.message ?? 'x')), fields);

test('operating-system errors become one line that says what to do', () => {
  const inUse = sysError({ code: 'EADDRINUSE', syscall: 'listen', address: '127.0.0.1', port: 1587, configKey: 'smtp.submission.port' });
  assert.deepEqual(describeFailure(inUse), {
    text: 'cannot listen on 127.0.0.1:1587 (smtp.submission.port): the address is already in use (another Postlane or mail server?); stop it or change smtp.submission.port in the config',
    exitCode: 1, explained: true,
  });
  assert.match(describeFailure(sysError({ code: 'EACCES', syscall: 'listen', address: '0.0.0.0', port: 25 })).text,
    /^cannot listen on 0\.0\.0\.0:25: permission denied; ports below 1024 need CAP_NET_BIND_SERVICE/);
  assert.equal(describeFailure(sysError({ code: 'EACCES', syscall: 'mkdir', path: '/var/lib/postlane' })).text, 'mkdir /var/lib/postlane: permission denied');
  const unknown = describeFailure(new Error('something odd'));
  assert.deepEqual(unknown, { text: 'something odd', exitCode: 1, explained: false });
});

test('typed errors keep their message; exit 2 for usage and configuration, 3 for not found', () => {
  assert.deepEqual(describeFailure(new ConfigError('invalid configuration at x: y', 'x')), { text: 'invalid configuration at x: y', exitCode: 2, explained: true });
  assert.equal(describeFailure(new RelayError('ERR_USAGE', 'bad')).exitCode, 2);
  assert.deepEqual(describeFailure(new NotFoundError('domain x.test')), { text: 'domain x.test not found', exitCode: 3, explained: true });
});

test('--debug anywhere, or POSTLANE_DEBUG=1, turns stack traces on', () => {
  assert.equal(isDebug(['node', 'postlane', 'start', '--debug'], {}), true);
  assert.equal(isDebug(['node', 'postlane', 'start'], { POSTLANE_DEBUG: '1' }), true);
  assert.equal(isDebug(['node', 'postlane', 'start'], { POSTLANE_DEBUG: '0' }), false);
  assert.equal(isDebug(['node', 'postlane', 'start'], {}), false);
});
