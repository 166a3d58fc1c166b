// `postlane webhooks add` refuses non-public destinations (webhooks.allowPrivateDestinations off),
// including IPv6 forms that carry a loopback or private IPv4 address, and stores nothing; a public
// destination in the same form is accepted. Run as a child process against a temp config.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RelayProcess } from '../helpers/relay-process.js';

describe('postlane webhooks add: destination guard (CLI)', () => {
  let relay: RelayProcess;
  before(async () => { relay = await RelayProcess.create({}); });
  after(async () => { await relay.cleanup(); });

  it('refuses IPv4-embedding IPv6 forms of loopback, private and unspecified addresses', async () => {
    for (const url of ['http://[::127.0.0.1]/hook', 'http://[::ffff:7f00:1]/hook', 'http://[64:ff9b::a9fe:a9fe]/latest/meta-data',
      'http://[2002:a00:1::1]/hook', 'http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook', 'http://[::]/hook', 'http://0.0.0.0/hook']) {
      const r = await relay.cli(['webhooks', 'add', '--url', url]);
      assert.equal(r.code, 2, `${url}: ${r.stdout}`);
      assert.match(r.stderr, /is not a public address: webhooks may only reach public addresses/, url);
    }
    const list = await relay.cli(['webhooks', 'list', '--json']);
    assert.deepEqual(JSON.parse(list.stdout), [], 'nothing stored');
    const ok = await relay.cli(['webhooks', 'add', '--url', 'https://[::ffff:8.8.8.8]/hook', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
  });
});
