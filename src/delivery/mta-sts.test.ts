// MtaStsResolver: discovery and caching rules (RFC 8461 §3, §5.1) with an in-memory TXT zone, a
// scripted fetcher, a manual clock and a cache file in a temp directory.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../events/log.js';
import { FETCH_RETRY_MS, MtaStsResolver } from './mta-sts.js';

const policy = (mode: string, maxAge: number, mx = 'mx.example.test') => `version: STSv1\nmode: ${mode}\nmx: ${mx}\nmax_age: ${maxAge}\n`;

function setup(file: string | null) {
  const clock = { ms: 1_700_000_000_000, now() { return this.ms; } };
  const txt = new Map<string, string[][] | Error>();
  const served = new Map<string, string | Error>();
  const fetched: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({ write(c: Buffer, _e, cb) { logs.push(JSON.parse(c.toString()) as Record<string, unknown>); cb(); } });
  const make = () => new MtaStsResolver({
    clock, logger: createLogger('debug', sink), cacheFile: file,
    dns: {
      resolveTxt: async (name) => {
        const r = txt.get(name);
        if (!r) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
        if (r instanceof Error) throw r;
        return r;
      },
    },
    fetch: async (domain) => {
      fetched.push(domain);
      const r = served.get(domain);
      if (r === undefined) throw new Error('policy server answered HTTP 404');
      if (r instanceof Error) throw r;
      return r;
    },
  });
  const record = (domain: string, id: string) => txt.set(`_mta-sts.${domain}`, [[`v=STSv1; id=${id};`]]);
  return { clock, txt, served, fetched, logs, make, record };
}

describe('MtaStsResolver', () => {
  let dir: string;
  before(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-sts-')); });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('no TXT record: no policy, nothing fetched', async () => {
    const s = setup(null);
    assert.equal(await s.make().policyFor('example.test'), null);
    assert.deepEqual(s.fetched, []);
  });

  it('fetches once, reuses while the id is unchanged, refetches when it changes', async () => {
    const s = setup(null);
    const r = s.make();
    s.record('example.test', 'one');
    s.served.set('example.test', policy('enforce', 3600));
    assert.equal((await r.policyFor('Example.TEST'))?.mode, 'enforce');
    assert.equal((await r.policyFor('example.test'))?.mode, 'enforce');
    assert.deepEqual(s.fetched, ['example.test']);
    s.record('example.test', 'two');
    s.served.set('example.test', policy('testing', 3600));
    assert.equal((await r.policyFor('example.test'))?.mode, 'testing');
    assert.deepEqual(s.fetched, ['example.test', 'example.test']);
  });

  it('concurrent lookups share one fetch', async () => {
    const s = setup(null);
    const r = s.make();
    s.record('example.test', 'one');
    s.served.set('example.test', policy('enforce', 3600));
    const got = await Promise.all([r.policyFor('example.test'), r.policyFor('example.test'), r.policyFor('example.test')]);
    assert.deepEqual(got.map((p) => p?.mode), ['enforce', 'enforce', 'enforce']);
    assert.equal(s.fetched.length, 1);
  });

  it('keeps an unexpired policy when the record disappears, the lookup fails or the new fetch fails; drops it after max_age', async () => {
    const s = setup(null);
    const r = s.make();
    s.record('example.test', 'one');
    s.served.set('example.test', policy('enforce', 600));
    await r.policyFor('example.test');
    s.txt.delete('_mta-sts.example.test');
    assert.equal((await r.policyFor('example.test'))?.mode, 'enforce', 'record gone: cached policy still applies');
    s.txt.set('_mta-sts.example.test', Object.assign(new Error('timeout'), { code: 'ETIMEOUT' }));
    assert.equal((await r.policyFor('example.test'))?.mode, 'enforce', 'lookup failed: cached policy');
    s.record('example.test', 'two');
    s.served.set('example.test', new Error('policy fetch timed out'));
    assert.equal((await r.policyFor('example.test'))?.mode, 'enforce', 'new id but fetch failed: cached policy');
    assert.ok(s.logs.some((l) => l.event === 'mta_sts.fetch_failed' && l.usingCached === true));
    s.clock.ms += 601_000;
    s.txt.delete('_mta-sts.example.test');
    assert.equal(await r.policyFor('example.test'), null, 'expired');
  });

  it('an invalid policy counts as a failed fetch; a failed fetch is retried only after FETCH_RETRY_MS', async () => {
    const s = setup(null);
    const r = s.make();
    s.record('example.test', 'one');
    s.served.set('example.test', '<html>oops</html>');
    assert.equal(await r.policyFor('example.test'), null);
    assert.match(String(s.logs.find((l) => l.event === 'mta_sts.fetch_failed')?.reason), /^invalid policy: /);
    s.served.set('example.test', policy('enforce', 600));
    assert.equal(await r.policyFor('example.test'), null, 'not retried yet');
    assert.equal(s.fetched.length, 1);
    s.clock.ms += FETCH_RETRY_MS;
    assert.equal((await r.policyFor('example.test'))?.mode, 'enforce');
    assert.equal(s.fetched.length, 2);
  });

  it('persists the cache: a new resolver (restart) enforces without fetching; a corrupt file is ignored', async () => {
    const file = path.join(dir, 'mta-sts', 'policies.json');
    const s = setup(file);
    const first = s.make();
    s.record('example.test', 'one');
    s.served.set('example.test', policy('enforce', 600));
    await first.policyFor('example.test');
    await first.flush();
    s.txt.delete('_mta-sts.example.test');
    const second = s.make();
    assert.deepEqual(await second.policyFor('example.test'), { mode: 'enforce', mx: ['mx.example.test'], maxAge: 600 });
    assert.equal(s.fetched.length, 1);
    await fs.writeFile(file, '{not json');
    assert.equal(await s.make().policyFor('example.test'), null);
    assert.ok(s.logs.some((l) => l.event === 'mta_sts.cache_read_failed'));
  });
});
