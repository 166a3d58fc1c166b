// The main-thread cost of the throttle's own check (api31), in process: a refused guess
// (ApiAuthThrottle.authenticate of a random token from a locked address: shape, cache, limiter,
// the 429 error) against the authenticator alone on a miss (what base does before the store's
// answer, with a store that answers null at once). 200,000 calls each, after 20,000 of warm-up.
//   node bench/api-guess-micro.mjs
import { randomBytes } from 'node:crypto';
import { ApiKeyAuthenticator } from '../dist/src/accounts/api-keys.js';
import { ApiAuthThrottle } from '../dist/src/http/api-auth-throttle.js';

const clock = { now: () => Date.now() };
const store = { getApiKey: async () => null, touchApiKey: async () => undefined };
const authenticator = new ApiKeyAuthenticator(store, clock);
const throttle = new ApiAuthThrottle({ maxFailures: 20, failureWindow: 900_000, lockout: 900_000 }, clock, authenticator, () => false);
const tokens = Array.from({ length: 1000 }, () => `pl_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`);
for (let i = 0; i < 20; i++) await throttle.authenticate(tokens[i], '203.0.113.9'); // lock the address

async function time(label, fn, n = 200_000) {
  for (let i = 0; i < 20_000; i++) await fn(i);
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn(i);
  const d = process.cpuUsage(t0);
  console.log(`${label}: ${((d.user + d.system) / n).toFixed(2)} µs CPU a call`);
}
await time('refused guess (429, no lookup)', (i) => throttle.authenticate(tokens[i % 1000], '203.0.113.9').catch(() => null));
await time('authenticator alone, a miss (base path, store answering null at once)', (i) => authenticator.authenticate(tokens[i % 1000]));
await time('refused guess, IPv6 /64 key (429, no lookup)', (i) => throttle.authenticate(tokens[i % 1000], `2001:db8::${i % 1000}`).catch(() => null));
