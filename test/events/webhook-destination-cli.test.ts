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

// `webhooks add` and `list` show a stored URL as GET /v1/webhooks does (shownWebhookUrl): a query
// token as `redacted`, the rest of the URL as given (left open by secret31).
describe('postlane webhooks list: URL credentials (CLI)', () => {
  let relay: RelayProcess;
  before(async () => { relay = await RelayProcess.create({}); });
  after(async () => { await relay.cleanup(); });

  it('shows a ?token= value as redacted in add, list and list --json, keeping the rest of the URL', async () => {
    const canary = 'CANARYleft31tok';
    const added = await relay.cli(['webhooks', 'add', '--url', `https://hooks.example.com/in/acme?v=2&token=${canary}&tag=x`]);
    assert.equal(added.code, 0, added.stderr);
    assert.ok(!added.stdout.includes(canary) && !added.stderr.includes(canary), added.stdout);
    assert.match(added.stdout, /signing secret \(shown only now\): whsec_/, 'the secret is still shown once');
    const shown = 'https://hooks.example.com/in/acme?v=2&token=redacted&tag=x';
    const list = await relay.cli(['webhooks', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(!list.stdout.includes(canary) && !list.stderr.includes(canary), list.stdout);
    assert.equal(list.stdout.split('\t')[1], shown);
    const json = await relay.cli(['webhooks', 'list', '--json']);
    assert.ok(!json.stdout.includes(canary), json.stdout);
    assert.deepEqual(JSON.parse(json.stdout).map((w: { url: string }) => w.url), [shown]);
  });
});
