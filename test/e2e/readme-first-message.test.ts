// The README's "Add a user and send a first message", followed as written against the built relay:
// its commands appear in a working order (the sending domain before the API call), the curl body
// it shows is accepted (202), and skipping `domains add` gets a 422 that says how to fix it.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, RelayProcess } from '../helpers/relay-process.js';

const README = path.join(path.dirname(BIN), '../README.md');

/** The shell lines of the README section, without comments. */
async function sectionCommands(): Promise<string[]> {
  const text = await fs.readFile(README, 'utf8');
  const start = text.indexOf('## Add a user and send a first message');
  const section = text.slice(start, text.indexOf('\n## ', start + 3));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.replace(/\\\n/g, ' ').split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);
}

describe('README: send a first message', () => {
  let relay: RelayProcess;
  before(async () => {
    // Nothing leaves the machine: the smarthost is a closed port, DNS a closed resolver.
    relay = await RelayProcess.create({ delivery: { smarthost: '127.0.0.1:9' }, dns: { servers: ['127.0.0.1:9'], timeout: '1s' } });
    await relay.start();
  });
  after(async () => { await relay.cleanup(); });

  it('the steps are in a working order and the HTTP example is accepted', async () => {
    const lines = await sectionCommands();
    const at = (needle: string) => {
      const i = lines.findIndex((l) => l.includes(needle));
      assert.ok(i >= 0, `README shows "${needle}"`);
      return i;
    };
    assert.ok(at('postlane users add alice --domain example.com') < at('postlane domains add example.com'));
    assert.ok(at('postlane domains add example.com') < at('curl '), 'the sending domain comes before the API call');
    assert.ok(at('KEY=$(npx postlane keys create --scope send)') < at('curl '));
    const body = /-d '(\{.*\})'/.exec(lines[at('curl ')]!)?.[1];
    assert.ok(body, 'the curl line has a JSON body');
    const api = `http://127.0.0.1:${relay.port('http')}/v1/messages`;
    const post = async (key: string) => {
      const res = await fetch(api, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
      return { status: res.status, body: await res.json() as { id?: string; error?: { message: string; fields: { path: string; message: string }[] } } };
    };

    const user = await relay.cli(['users', 'add', 'alice', '--domain', 'example.com'], 's3cret-password\n');
    assert.equal(user.code, 0, user.stderr);
    const key = await relay.cli(['keys', 'create', '--scope', 'send']);
    assert.equal(key.code, 0, key.stderr);
    const token = key.stdout.trim();

    const early = await post(token);
    assert.equal(early.status, 422, 'no sending domain yet');
    assert.deepEqual(early.body.error?.fields, [{ path: 'from', message: 'example.com is not a sending domain of account default; add it with: postlane domains add example.com' }]);

    assert.equal((await relay.cli(['domains', 'add', 'example.com'])).code, 0);
    const sent = await eventuallyAccepted(() => post(token));
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const shown = await relay.cli(['queue', 'show', sent.body.id!]);
    assert.match(shown.stdout, new RegExp(`^Queue ID: +${sent.body.id}$`, 'm'));
    assert.match(shown.stdout, /^Sender: +alice@example\.com$/m);
  });
});

/** The API reuses an account's domain list for up to 5 s (docs/design/ingress.md): retry the 422 until the new domain is seen. */
async function eventuallyAccepted<T extends { status: number }>(send: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    const r = await send();
    if (r.status !== 422 || i >= 100) return r;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
