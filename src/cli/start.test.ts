// `postlane start` helpers: which config key a failed bind names, and the banner's next step.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../config/load.js';
import { formatBanner, listenerKeyOf } from './start.js';

const config = loadConfig({ env: {}, overrides: { hostname: 'relay.example.com', dataDir: '/srv/postlane', 'smtp.alt': false, 'smtp.mx': { host: '192.0.2.7', port: 25 } } });

test('a failed bind names the listener by port, else by address', () => {
  assert.equal(listenerKeyOf({ code: 'EADDRINUSE', address: '127.0.0.1', port: 1587 }, config), 'smtp.submission.port');
  assert.equal(listenerKeyOf({ code: 'EADDRINUSE', address: '127.0.0.1', port: 8025 }, config), 'http.port');
  assert.equal(listenerKeyOf({ code: 'EADDRNOTAVAIL', address: '192.0.2.7' }, config), 'smtp.mx.host');
  assert.equal(listenerKeyOf({ code: 'EADDRINUSE', address: '127.0.0.1', port: 9999 }, config), null);
});

test('the banner: listeners, data directory, no warning for a good hostname, the next step', () => {
  const addresses = { submission: { host: '127.0.0.1', port: 1587 }, mx: { host: '192.0.2.7', port: 25 }, http: { host: '127.0.0.1', port: 8025 } };
  const first = formatBanner({ config, addresses, hasUsers: false });
  assert.match(first, /^Postlane \S+ is running as relay\.example\.com\n {2}submission {3}127\.0\.0\.1:1587 {11}SMTP submission: STARTTLS, then AUTH\n/);
  assert.match(first, /\n {2}data {9}\/srv\/postlane\nNext: add a user: npx postlane users add NAME --domain example\.com\nLogs follow; Ctrl-C stops the relay\.\n$/);
  assert.ok(!first.includes('warning'));
  assert.match(first, /\n {2}http {9}http:\/\/127\.0\.0\.1:8025 {4}HTTP API \/v1, \/openapi\.json, \/healthz, \/readyz; dashboard at \/ \(a browser\)\n/);
  const later = formatBanner({ config, addresses, hasUsers: true, configFile: 'relay.yaml' });
  assert.match(later, /\nNext: npx postlane --config relay\.yaml queue list {3}\(npx postlane --help lists every command\)\n/);
});

test('the banner names the dashboard only when http.dashboard serves it', () => {
  const apiOnly = loadConfig({ env: {}, overrides: { hostname: 'relay.example.com', 'http.dashboard': false } });
  const banner = formatBanner({ config: apiOnly, addresses: { http: { host: '127.0.0.1', port: 8025 } }, hasUsers: true });
  assert.match(banner, /\n {2}http {9}http:\/\/127\.0\.0\.1:8025 {4}HTTP API \/v1, \/openapi\.json, \/healthz, \/readyz\n/);
});
