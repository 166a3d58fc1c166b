// The optional malloc_trim addon (native/malloc-trim, src/malloc-trim.ts) in a relay started through
// the launcher: with the addon present the relay calls it under load and goes on relaying; with it
// absent (no compiler at install, musl, macOS) the relay starts and relays as before. The addon is
// compiled here with gcc from its source, as npm's node-gyp build would, and reached through
// NODE_PATH; "absent" is a preload that makes `require('postlane-malloc-trim')` fail as on a machine
// where npm dropped the optional dependency, even where it is installed.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { RelayProcess } from '../helpers/relay-process.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { TOOLS, skipUnless, toolPath } from '../helpers/require-tool.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const skip = await skipUnless(TOOLS.gcc);
const MESSAGES = 30;

let dir: string;
let receiver: Receiver;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-malloc-trim-'));
  receiver = await startReceiver({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await receiver?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

/** native/malloc-trim compiled into DIR/modules/postlane-malloc-trim, a package as npm would install it. */
async function buildAddon(): Promise<string> {
  const modules = path.join(dir, 'modules');
  const pkg = path.join(modules, 'postlane-malloc-trim');
  await fs.mkdir(pkg, { recursive: true });
  const include = path.join(path.dirname(process.execPath), '../include/node');
  await fs.access(path.join(include, 'node_api.h')); // Node's headers, as node-gyp uses them
  await run((await toolPath(TOOLS.gcc))!, ['-shared', '-fPIC', '-O2', '-Wall', '-I', include, '-o', path.join(pkg, 'malloc_trim.node'), path.join(ROOT, 'native/malloc-trim/malloc_trim.c')]);
  await fs.writeFile(path.join(pkg, 'package.json'), JSON.stringify({ name: 'postlane-malloc-trim', main: 'malloc_trim.node' }));
  return modules;
}

/** A preload that makes the addon unloadable, as where npm could not build it. */
async function hideAddon(): Promise<string> {
  const file = path.join(dir, 'hide-addon.cjs');
  await fs.writeFile(file, `const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'postlane-malloc-trim') throw Object.assign(new Error("Cannot find module 'postlane-malloc-trim'"), { code: 'MODULE_NOT_FOUND' });
  return resolve.call(this, request, ...rest);
};
`);
  return file;
}

/** MESSAGES messages of ~60 KB, one connection each, to the relay's alt listener (no AUTH: relayNetworks). */
async function sendAll(port: number) {
  const body = `Subject: trim\r\n\r\n${'x'.repeat(76).concat('\r\n').repeat(800)}`;
  for (let i = 0; i < MESSAGES; i++) {
    const conn = new SMTPConnection({ host: '127.0.0.1', port, ignoreTLS: true, name: 'client.test' });
    await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
    await new Promise<void>((resolve, reject) => conn.send({ from: 'a@src.test', to: [`r${i}@dst.test`] }, body, (err) => (err ? reject(err) : resolve())));
    conn.quit();
  }
}

async function relayWith(env: Record<string, string>): Promise<RelayProcess> {
  const relay = await RelayProcess.create({
    smtp: { submission: false, submissions: false, mx: false, alt: { host: '127.0.0.1', port: 0 }, relayNetworks: ['127.0.0.0/8'] },
    delivery: { smarthost: `127.0.0.1:${receiver.port}`, tls: 'none' },
    http: false, metrics: false,
    log: { level: 'debug' },
  });
  relay.env = env;
  await relay.start();
  return relay;
}

test('with the addon, the relay calls malloc_trim under load and relays every message', { skip }, async () => {
  const relay = await relayWith({ NODE_PATH: await buildAddon() });
  try {
    const before = receiver.messages.length;
    await sendAll(relay.port('alt'));
    await receiver.waitFor(before + MESSAGES, 30_000);
    const trimmed = await relay.waitForLog((l) => l.event === 'memory.trimmed', 30_000);
    assert.equal(typeof trimmed.micros, 'number');
    assert.equal(typeof trimmed.released, 'boolean');
    assert.ok(!relay.logs.some((l) => l.event === 'memory.trim_unavailable' || l.event === 'memory.trim_failed'));
    assert.equal((await relay.stop()).code, 0, 'a clean stop with the timer running');
  } finally {
    await relay.cleanup();
  }
});

test('without the addon, the relay starts, relays every message and stops as before', async () => {
  const relay = await relayWith({ NODE_OPTIONS: `--require ${await hideAddon()}` });
  try {
    const before = receiver.messages.length;
    await sendAll(relay.port('alt'));
    await receiver.waitFor(before + MESSAGES, 30_000);
    assert.ok(relay.logs.some((l) => l.event === 'memory.trim_unavailable'), 'said once, at debug level');
    assert.ok(!relay.logs.some((l) => l.event === 'memory.trimmed'));
    assert.equal((await relay.stop()).code, 0);
  } finally {
    await relay.cleanup();
  }
});
