// `postlane suppressions` and `postlane stats` as child processes against a temp config: add,
// list, search, remove, CSV export and import (file and stdin, bad rows reported), tenant
// isolation; statistics of a generated history equal an independent count made here.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newQueueId } from '../../src/message/ids.js';
import type { RecipientOutcome } from '../../src/store/store.js';
import { RelayProcess } from '../helpers/relay-process.js';
import { cliFixture } from '../helpers/cli-fixture.js';

describe('postlane suppressions / stats (CLI)', () => {
  let relay: RelayProcess;
  /** The relay's own store is opened in this process for what the CLI cannot show. */
  const { cli, ok, withStore } = cliFixture(() => relay);

  before(async () => {
    relay = await RelayProcess.create({});
    await ok('accounts', 'add', 'acme');
  });
  after(async () => { await relay.cleanup(); });

  it('add, list, search, remove; per account; clear errors', async () => {
    assert.equal((await ok('suppressions', 'add', 'Gone@Example.com', 'news@example.com', '--account', 'acme', '--note', 'asked by phone')).stdout, '2 added\n');
    assert.equal((await ok('suppressions', 'add', 'gone@example.com', '--account', 'acme')).stdout, '0 added, 1 already suppressed\n');
    assert.equal((await ok('suppressions', 'add', 'promo@example.com', '--scope', 'broadcast', '--account', 'acme')).stdout, '1 added\n');
    const listed = (await ok('suppressions', 'list', '--account', 'acme')).stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 3));
    assert.deepEqual(listed, [['gone@example.com', 'all', 'manual'], ['news@example.com', 'all', 'manual'], ['promo@example.com', 'broadcast', 'manual']]);
    assert.equal((await ok('suppressions', 'list', '--account', 'acme', '--search', 'NEWS', '--json')).stdout.includes('"detail": "asked by phone"'), true);
    assert.equal((await ok('suppressions', 'list')).stdout, 'no suppressed addresses in account default\n', 'another account sees none');
    assert.equal((await cli('suppressions', 'add', 'not-an-address', '--account', 'acme')).code, 2);
    assert.equal((await cli('suppressions', 'list', '--scope', 'some', '--account', 'acme')).code, 2);
    assert.equal((await cli('suppressions', 'list', '--account', 'ghost')).code, 3);
    const missing = await cli('suppressions', 'remove', 'nobody@example.com', '--account', 'acme');
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /nobody@example\.com is not suppressed in account acme/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /, 'one clear line, no stack trace');
    assert.equal((await ok('suppressions', 'remove', 'GONE@example.com', '--account', 'acme')).stdout, 'removed 1 entry for GONE@example.com\n');
  });

  it('export to CSV and import it elsewhere (file and stdin); bad rows reported with their line', async () => {
    const csv = (await ok('suppressions', 'export', '--account', 'acme')).stdout;
    assert.match(csv, /^email,scope,reason,created_at,source,message_id,detail\r\nnews@example\.com,all,manual,[^,]+,cli,,asked by phone\r\npromo@example\.com,broadcast,manual,/);
    const file = path.join(relay.dir, 'list.csv');
    await fs.writeFile(file, csv);
    assert.equal((await ok('suppressions', 'import', file)).stdout, '2 read, 2 added, 0 refused\n');
    assert.deepEqual((await ok('suppressions', 'list')).stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 2)),
      [['news@example.com', 'all'], ['promo@example.com', 'broadcast']]);
    const r = await relay.cli(['suppressions', 'import', '-', '--account', 'acme'], 'Address,Note\nold1@example.org,from the old provider\nbroken\n');
    assert.equal(r.code, 1, 'a refused row makes the exit code non-zero');
    assert.equal(r.stdout, '1 read, 1 added, 1 refused\n');
    assert.equal(r.stderr, 'line 3: not an email address: "broken"\n');
  });

  it('stats: a generated history gives the counts an independent tally of it gives', async () => {
    const domains = ['gmail.com', 'yahoo.com', 'example.org'];
    const tally = new Map<string, Record<string, number>>();
    const add = (domain: string, metric: string) => {
      const m = tally.get(domain) ?? {};
      m[metric] = (m[metric] ?? 0) + 1;
      tally.set(domain, m);
    };
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    await withStore(async (store) => {
      for (let i = 0; i < 60; i++) {
        const id = newQueueId();
        const recipients = [`u${i}@${domains[i % 3]}`, `v${i}@${domains[(i + 1) % 3]}`];
        const w = store.createBody(id);
        await w.write(Buffer.from('Subject: s\r\n\r\nx\r\n'));
        await w.finish();
        await store.put({ id, mailFrom: 'a@acme.example', recipients, size: w.bytesWritten, receivedAt: Date.now(), isBounce: false, route: 'relay',
          origin: { listener: 'http', clientIp: '127.0.0.1', user: null }, meta: { account: 'acme', tags: [], metadata: {}, stream: i % 2 ? 'broadcast' : 'transactional' } });
        for (const r of recipients) add(r.split('@')[1]!, 'accepted');
      }
      for (const job of await store.claimDue({ now: Date.now(), limit: 1000, leaseMs: 60_000, owner: 't' })) {
        const outcomes = job.recipients.map((r): RecipientOutcome => {
          const x = random();
          const domain = r.address.split('@')[1]!;
          if (x < 0.6) { add(domain, 'delivered'); return { rcptId: r.id, status: 'delivered', response: '250 ok' }; }
          if (x < 0.75) { add(domain, 'bounced_hard'); return { rcptId: r.id, status: 'bounced', response: '550 5.1.1 user unknown' }; }
          if (x < 0.85) { add(domain, 'failed'); return { rcptId: r.id, status: 'expired', response: '451 4.4.1 timed out' }; }
          add(domain, 'deferred');
          return { rcptId: r.id, status: 'deferred', response: '451 later', nextAttemptAt: Date.now() + 60_000 };
        });
        await store.recordResults(job.messageId, outcomes, [], { owner: 't' });
      }
    });
    const json = JSON.parse((await ok('stats', '--account', 'acme', '--by', 'domain', '--since', '1d', '--json')).stdout) as
      { data: { key: string; counts: Record<string, number> }[]; total: { counts: Record<string, number>; rates: Record<string, number | null> } };
    for (const d of domains) {
      const got = json.data.find((g) => g.key === d)!.counts;
      for (const metric of ['accepted', 'delivered', 'bounced_hard', 'failed', 'deferred']) assert.equal(got[metric], tally.get(d)![metric] ?? 0, `${d} ${metric}`);
    }
    const sum = (metric: string) => [...tally.values()].reduce((n, m) => n + (m[metric] ?? 0), 0);
    assert.equal(json.total.counts.accepted, 120);
    assert.equal(json.total.rates.delivery, Math.round(sum('delivered') / (sum('delivered') + sum('bounced_hard') + sum('failed')) * 10_000) / 10_000);
    const providers = JSON.parse((await ok('stats', '--account', 'acme', '--by', 'provider', '--json')).stdout) as { data: { key: string }[] };
    assert.deepEqual(providers.data.map((g) => g.key), ['gmail', 'other', 'yahoo']);
    const table = (await ok('stats', '--account', 'acme', '--by', 'stream')).stdout.split('\n');
    assert.match(table[0]!, /^stream\s+accepted\s+delivered/);
    assert.match(table.at(-2)!, /^total\s+120\s/);
    assert.equal((await ok('stats')).stdout, 'no mail in this window\n', 'the default account has none');
    assert.equal((await cli('stats', '--by', 'week')).code, 2);
    assert.equal((await cli('stats', '--by', 'account')).code, 2);
  });
});
