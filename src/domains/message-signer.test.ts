// Which key the accept path signs with: the From domain's, a configured parent's, the fallback
// domain's (not aligned, logged), or none (logged). Signatures are checked with mailauth.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { PassThrough, Writable } from 'node:stream';
import { dkimVerify } from 'mailauth';
import { createLogger } from '../events/log.js';
import type { DkimKey, SendingDomain } from '../store/store.js';
import { dkimRecordValue, generateDkimKey } from './dkim-keys.js';
import { MessageSigner } from './message-signer.js';

const NOW = Date.UTC(2025, 6, 1, 12);
const MESSAGE = Buffer.from('From: a@news.example.com\r\nSubject: hi\r\n\r\nbody\r\n');

describe('MessageSigner', () => {
  const domains = new Map<string, SendingDomain>();
  const zone = new Map<string, string>();
  const logs: { event?: string; domain?: string; signedAs?: string | null }[] = [];
  const logger = createLogger('info', new Writable({ write(chunk, _e, cb) { logs.push(JSON.parse(String(chunk))); cb(); } }));
  const store = { getDomain: async (name: string) => domains.get(name) ?? null };
  const signer = (signUnconfiguredWith: string | false | null = null) =>
    new MessageSigner({ store, hostname: 'relay.example.net', domains: { signUnconfiguredWith }, clock: { now: () => NOW }, logger });

  async function add(name: string, selectors: [string, 'rsa' | 'ed25519', DkimKey['state']][]) {
    const keys = await Promise.all(selectors.map(async ([selector, algorithm, state]) => {
      const m = await generateDkimKey(algorithm);
      zone.set(`${selector}._domainkey.${name}`, dkimRecordValue(m));
      return { ...m, selector, createdAt: NOW, state };
    }));
    domains.set(name, { name, createdAt: NOW, keys });
  }

  async function verified(headers: string): Promise<string[]> {
    const resolver = async (name: string) => {
      const v = zone.get(name);
      if (!v) throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
      return [[v]];
    };
    const res = await dkimVerify(Buffer.concat([Buffer.from(headers), MESSAGE]), { resolver, curTime: new Date(NOW) } as never);
    return res.results.map((r) => `${r.status.result}:${r.signingDomain}:${r.selector}`);
  }

  before(async () => {
    await add('example.com', [['r1', 'rsa', 'active'], ['e1', 'ed25519', 'active'], ['r0', 'rsa', 'retired'], ['r2', 'rsa', 'pending']]);
    await add('relay.example.net', [['relay', 'ed25519', 'active']]);
    await add('nokeys.example', [['old', 'rsa', 'retired']]);
  });

  it('signs with the active keys of the From domain or its configured parent (aligned)', async () => {
    const out = await signer().sign(MESSAGE, 'news.example.com', { id: 'Q1' });
    assert.equal(out.domain, 'example.com');
    assert.equal(out.aligned, true);
    assert.deepEqual(await verified(out.headers), ['pass:example.com:r1', 'pass:example.com:e1']);
    assert.match(out.headers, new RegExp(`t=${NOW / 1000}`), 't= from the injected clock');
    assert.ok(!logs.some((l) => l.event === 'dkim.unconfigured_domain'));
  });

  it('signs a stream fed chunk by chunk while the body is written (the accept path): same signature as the buffer', async () => {
    const tee = new PassThrough();
    const signing = signer().sign(tee, 'example.com', { id: 'Q6' });
    for (let i = 0; i < MESSAGE.length; i += 7) { tee.write(MESSAGE.subarray(i, i + 7)); await new Promise(setImmediate); }
    tee.end();
    const streamed = await signing;
    assert.deepEqual(await verified(streamed.headers), ['pass:example.com:r1', 'pass:example.com:e1']);
    assert.equal(streamed.headers, (await signer().sign(MESSAGE, 'example.com', { id: 'Q7' })).headers, 'same clock, same bytes: same signature');
  });

  it('an unconfigured From domain is signed with the hostname domain by default, and logged', async () => {
    const out = await signer().sign(MESSAGE, 'other.example', { id: 'Q2' });
    assert.deepEqual([out.domain, out.aligned], ['relay.example.net', false]);
    assert.deepEqual(await verified(out.headers), ['pass:relay.example.net:relay']);
    assert.deepEqual(logs.at(-1), { ...logs.at(-1), event: 'dkim.unconfigured_domain', domain: 'other.example', signedAs: 'relay.example.net' });
  });

  it('signUnconfiguredWith names the fallback; false, or a fallback without keys, leaves it unsigned', async () => {
    assert.equal((await signer('example.com').sign(MESSAGE, null, { id: 'Q3' })).domain, 'example.com');
    assert.deepEqual(await signer(false).sign(MESSAGE, 'other.example', { id: 'Q4' }), { headers: '', domain: null, aligned: false });
    assert.deepEqual(await signer('nokeys.example').sign(MESSAGE, 'nokeys.example', { id: 'Q5' }), { headers: '', domain: null, aligned: false });
    assert.equal(logs.at(-1)!.signedAs, null);
  });

  it('reuses domain lookups (found or not) for 5 s, then sees changes; failed lookups are not kept', async () => {
    let now = NOW;
    const calls: string[] = [];
    let failing = false;
    const counting = {
      getDomain: async (name: string) => {
        calls.push(name);
        if (failing) throw new Error('store down');
        return domains.get(name) ?? null;
      },
    };
    const s = new MessageSigner({ store: counting, hostname: 'relay.example.net', domains: { signUnconfiguredWith: null }, clock: { now: () => now }, logger });
    for (let i = 0; i < 3; i++) assert.equal((await s.sign(MESSAGE, 'later.example', { id: `C${i}` })).domain, 'relay.example.net');
    assert.deepEqual(calls, ['later.example', 'relay.example.net'], 'one lookup per name for three messages');
    await add('later.example', [['l1', 'ed25519', 'active']]);
    now += 5000;
    assert.equal((await s.sign(MESSAGE, 'later.example', { id: 'C3' })).domain, 'later.example', 'a domain added is used after the cache time');
    now += 5000;
    failing = true;
    await assert.rejects(s.sign(MESSAGE, 'later.example', { id: 'C4' }), /store down/);
    failing = false;
    assert.equal((await s.sign(MESSAGE, 'later.example', { id: 'C5' })).domain, 'later.example', 'the failure was not cached');
  });

  it('unsignedNow: sign()\'s unsigned answer and log line once every lookup it would make is cached, answered, fresh and keyless; else null', async () => {
    let now = NOW;
    const s = (fallback: string | false | null) => new MessageSigner({ store, hostname: 'relay.example.net', domains: { signUnconfiguredWith: fallback }, clock: { now: () => now }, logger });
    const plain = s('nokeys.example');
    assert.equal(plain.unsignedNow('a.other.example', { id: 'U1' }), null, 'nothing looked up yet');
    const viaSign = await plain.sign(MESSAGE, 'a.other.example', { id: 'U1' });
    const before = logs.length;
    const known = plain.unsignedNow('a.other.example', { id: 'U2' });
    assert.deepEqual(known, viaSign);
    assert.deepEqual(known, { headers: '', domain: null, aligned: false });
    assert.equal(logs.length, before + 1);
    assert.deepEqual(logs.at(-1), { ...logs.at(-1), event: 'dkim.unconfigured_domain', id: 'U2', domain: 'a.other.example', signedAs: null });
    assert.equal(plain.unsignedNow('b.other.example', { id: 'U3' }), null, 'a parent cached, the name itself not');
    assert.equal(plain.unsignedNow(null, { id: 'U4' })?.domain, null, 'no From domain: the fallback alone decides');
    now += 5000;
    assert.equal(plain.unsignedNow('a.other.example', { id: 'U5' }), null, 'expired: sign() looks again');
    // a key anywhere sign() would look: never known unsigned
    const keyed = s(null);
    await keyed.sign(MESSAGE, 'a.other.example', { id: 'U6' });
    assert.equal(keyed.unsignedNow('a.other.example', { id: 'U7' }), null, 'the fallback (hostname) has a key');
    const own = s(false);
    await own.sign(MESSAGE, 'news.example.com', { id: 'U8' });
    assert.equal(own.unsignedNow('news.example.com', { id: 'U9' }), null, 'a parent has keys');
    await own.sign(MESSAGE, 'other.example', { id: 'U10' });
    assert.deepEqual(own.unsignedNow('other.example', { id: 'U11' }), { headers: '', domain: null, aligned: false }, 'signUnconfiguredWith false: no fallback lookup');
    // a pending lookup is not an answer
    let release!: () => void;
    const slow = new MessageSigner({ store: { getDomain: (name: string) => new Promise((r) => { release = () => r(domains.get(name) ?? null); }) }, hostname: 'relay.example.net',
      domains: { signUnconfiguredWith: false }, clock: { now: () => now }, logger });
    const pending = slow.sign(MESSAGE, 'other.example', { id: 'U12' });
    assert.equal(slow.unsignedNow('other.example', { id: 'U13' }), null);
    release();
    await pending;
    assert.ok(slow.unsignedNow('other.example', { id: 'U14' }));
  });
});
