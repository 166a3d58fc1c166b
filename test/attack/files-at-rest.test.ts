// Auditor's pass (files at rest, thirty-first session): what the relay writes into its data
// directory — the queue database and its WAL (DKIM private keys, password and token hashes, the
// installation secrets), spool bodies, mail received for local domains, the generated TLS key —
// is owner-only whatever the umask it was started under. Under umask 000 the data directory itself
// was made 0750 (its group could list it); everything in it was already 0600/0700.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import net from 'node:net';
import { Submitter } from '../helpers/smtp-client.js';

const HOST = '127.0.75.1';
/** A remote MTA's pipelined dialogue with the MX listener; what it was answered. */
function toMx(port: number, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: HOST, port }, () => s.write(lines.map((l) => `${l}\r\n`).join('')));
    let got = '';
    s.on('data', (d: Buffer) => { got += d.toString(); });
    s.on('error', reject);
    s.on('close', () => resolve(got));
  });
}
const mode = async (p: string) => (await fs.stat(p)).mode & 0o777;

test('under umask 000 the relay makes its data directory and everything secret in it owner-only', async (t) => {
  const relay = await RelayProcess.create({
    smtp: { submission: { host: HOST, port: 0 }, submissions: { host: HOST, port: 0 }, mx: { host: HOST, port: 0 } },
    http: false, metrics: false,
    // nothing listens there: submitted mail stays queued, its body in the spool
    delivery: { smarthost: '127.0.75.2:27598' },
  });
  t.after(() => relay.cleanup());
  const before = process.umask(0); // the child inherits it
  try { await relay.start(); } finally { process.umask(before); }
  const data = path.join(relay.dir, 'data');

  const added = await relay.cli(['users', 'add', 'alice', '--domain', 'example.com', '--password', 'alice-password-1']);
  assert.equal(added.code, 0, added.stderr);
  const big = `From: a@example.com\r\nTo: b@remote.test\r\nSubject: big\r\n\r\n${'a line of the body of a message\r\n'.repeat(12_000)}`; // ~380 KB: spooled
  const submitter = new Submitter({ host: HOST, port: relay.port('submissions'), secure: true, user: 'alice', pass: 'alice-password-1' });
  t.after(() => submitter.close());
  await submitter.send('a@example.com', ['b@remote.test'], big);
  const mx = await toMx(relay.port('mx'), ['EHLO mx.remote.test', 'MAIL FROM:<x@remote.test>', 'RCPT TO:<postmaster@relay.test>', 'DATA',
    'From: x@remote.test\r\nTo: postmaster@relay.test\r\nSubject: hi\r\n\r\nhello\r\n.', 'QUIT']);
  assert.match(mx, /queued as/, mx);
  const inbound = path.join(data, 'inbound');
  await eventually(async () => (await fs.readdir(inbound).catch(() => [])).some((f) => f.endsWith('.eml')));
  const spooled = await eventually(async () => (await fs.readdir(path.join(data, 'spool'))).filter((f) => !f.startsWith('.')));

  const dirs = [data, path.join(data, 'spool'), path.join(data, 'tls'), inbound];
  const files = ['queue.db', 'queue.db-wal', 'queue.db-shm', 'tls/key.pem'].map((f) => path.join(data, f))
    .concat(spooled.map((f) => path.join(data, 'spool', f)), (await fs.readdir(inbound)).map((f) => path.join(inbound, f)));
  const found: Record<string, string> = {};
  for (const p of [...dirs, ...files]) found[path.relative(relay.dir, p)] = (await mode(p)).toString(8);
  const expected = Object.fromEntries(Object.keys(found).map((k) => [k, dirs.map((d) => path.relative(relay.dir, d)).includes(k) ? '700' : '600']));
  assert.deepEqual(found, expected);
  assert.equal((await mode(path.join(data, 'tls', 'cert.pem'))).toString(8), '644', 'the certificate is public');
});
