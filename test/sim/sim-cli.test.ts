// `postlane sim` as a user runs it: the built CLI as a child process, with flags and with a
// sim.yaml; mail sent by Python's smtplib; the JSON lines it prints (started with the DNS records,
// received/refused as they happen, final stats on SIGINT) and the HTTP status endpoint.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { once } from 'node:events';
import { BIN, eventually } from '../helpers/relay-process.js';
import { TOOLS, skipUnless, toolPath } from '../helpers/require-tool.js';
import { runCli, cliEnv } from '../cli/cli-run.js';
import { freePort } from '../helpers/free-port.js';
import { dialogue, codeOf } from './smtplib-dialogue.js';
import { startReceiver } from '../helpers/smtp-receiver.js';

const skip = await skipUnless(TOOLS.python3);
const PYTHON3 = (await toolPath(TOOLS.python3)) ?? 'python3';
type Line = Record<string, unknown> & { event?: string };

function startSimCli(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'sim', ...args], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  readline.createInterface({ input: child.stdout }).on('line', (l) => lines.push(JSON.parse(l) as Line));
  const wait = (pred: (l: Line) => boolean) => eventually(() => lines.find(pred) ?? (child.exitCode !== null ? (() => { throw new Error(`sim exited ${child.exitCode}: ${stderr}`); })() : undefined), 20_000);
  return { child, lines, wait, stderr: () => stderr };
}

test('postlane sim --profile/--listen/--set: events as JSON lines, the status endpoint, final stats on SIGINT', { skip }, async () => {
  const port = await freePort();
  const sim = startSimCli(['--profile', 'gmail', '--listen', `127.0.0.2:${port}`, '--profile', 'microsoft', '--listen', `127.0.0.3:${port}`,
    '--set', 'ratePerMinute=1', '--set', 'unknownRecipients=["nobody@"]', '--status', '127.0.0.1:0']);
  try {
    const started = await sim.wait((l) => l.event === 'sim.started');
    assert.deepEqual(started.providers, [
      { name: 'gmail', profile: 'gmail', host: '127.0.0.2', port },
      { name: 'microsoft', profile: 'microsoft', host: '127.0.0.3', port },
    ]);
    assert.ok((started.dns as string[]).includes('mx.gmail.sim.test. 0 IN A 127.0.0.2'));
    const r = await dialogue(PYTHON3, '127.0.0.2', port, [['a', 'connect'], ['a', 'ehlo'], ['a', 'mail', 'a@s.test'], ['a', 'rcpt', 'nobody@gmail.test'],
      ['a', 'rcpt', 'bob@gmail.test'], ['a', 'data', 'Subject: x\r\n\r\nhi\r\n'], ['a', 'mail', 'a@s.test'], ['a', 'rcpt', 'bob@gmail.test'], ['a', 'data', 'Subject: y\r\n\r\nhi\r\n']]);
    assert.deepEqual([3, 4, 5, 8].map((i) => codeOf(r[i])), [550, 250, 250, 421]);
    const received = await sim.wait((l) => l.event === 'sim.received');
    assert.equal(received.provider, 'gmail');
    assert.deepEqual(received.rcptTo, ['bob@gmail.test']);
    assert.equal(received.clientIp, '127.0.0.1');
    assert.equal('body' in received, false);
    await sim.wait((l) => l.event === 'sim.refused' && l.reason === 'rate-limit');
    const refusedUnknown = sim.lines.find((l) => l.event === 'sim.refused' && l.reason === 'unknown-recipient');
    assert.equal(refusedUnknown?.rcpt, 'nobody@gmail.test');

    const status = await (await fetch(`${started.status as string}/status`)).json() as { stats: { provider: string; messages: number; refusals: Record<string, number> }[] };
    assert.deepEqual(status.stats.map((s) => [s.provider, s.messages, s.refusals['rate-limit']]), [['gmail', 1, 1], ['microsoft', 0, 0]]);
    const list = await (await fetch(`${started.status as string}/received?provider=gmail`)).json() as { data: { mailFrom: string }[] };
    assert.deepEqual(list.data.map((m) => m.mailFrom), ['a@s.test']);
    assert.equal((await fetch(`${started.status as string}/received?provider=nope`)).status, 404);
    assert.equal((await fetch(`${started.status as string}/received?limit=0`)).status, 400);

    sim.child.kill('SIGINT');
    const [code] = await once(sim.child, 'exit') as [number | null];
    assert.equal(code, 0, sim.stderr());
    const final = sim.lines.find((l) => l.event === 'sim.stats' && l.final === true) as { providers: { provider: string; messages: number }[] } | undefined;
    assert.deepEqual(final?.providers.map((p) => [p.provider, p.messages]), [['gmail', 1], ['microsoft', 0]]);
  } finally {
    if (sim.child.exitCode === null) sim.child.kill('SIGKILL');
  }
});

test('postlane sim --config sim.yaml: providers with inline profiles and overrides, complaints; a bad key is named', { skip }, async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-sim-'));
  const fbl = await startReceiver({ host: '127.0.0.6', port: 0, tls: false });
  try {
    const port = await freePort();
    const file = path.join(dir, 'sim.yaml');
    await fs.writeFile(file, [
      `complaints: { send: "127.0.0.6:${fbl.port}", to: fbl@relay.test }`,
      'providers:',
      '  - name: corp',
      '    profile: { extends: microsoft, name: corp, greylistDelay: 1h }',
      `    listen: 127.0.0.4:${port}`,
      '  - profile: yahoo',
      `    listen: 127.0.0.5:${port}`,
      '    overrides: { blockedSenders: ["*@spam.test"] }',
    ].join('\n'));
    const sim = startSimCli(['--config', file]);
    try {
      const started = await sim.wait((l) => l.event === 'sim.started');
      assert.deepEqual((started.providers as { name: string; profile: string }[]).map((p) => [p.name, p.profile]), [['corp', 'corp'], ['yahoo', 'yahoo']]);
      const g = await dialogue(PYTHON3, '127.0.0.4', port, [['a', 'connect'], ['a', 'ehlo'], ['a', 'mail', 'a@s.test'], ['a', 'rcpt', 'b@corp.test']]);
      assert.equal(codeOf(g[3]), 451);
      assert.match((g[3] as { text: string }).text, /^4\.7\.500 Server busy\. Please try again later from \[127\.0\.0\.1\]\. \(S77714\)/);
      const y = await dialogue(PYTHON3, '127.0.0.5', port, [['a', 'connect'], ['a', 'ehlo'], ['a', 'mail', 'x@spam.test']]);
      assert.equal(codeOf(y[2]), 554);
      const c = await dialogue(PYTHON3, '127.0.0.5', port, [['a', 'connect'], ['a', 'ehlo'], ['a', 'mail', 'a@s.test'], ['a', 'rcpt', 'complaint@yahoo.test'], ['a', 'data', 'Subject: x\r\n\r\nhi\r\n']]);
      assert.equal(codeOf(c[4]), 250);
      const complaint = await sim.wait((l) => l.event === 'sim.complaint');
      assert.deepEqual([complaint.rcpt, complaint.to], ['complaint@yahoo.test', 'fbl@relay.test']);
      assert.match(String(complaint.reply), /^250 /);
      assert.deepEqual(fbl.messages[0]?.rcptTo, ['fbl@relay.test']);
      assert.match(fbl.messages[0]!.body.toString(), /report-type=feedback-report/);
      sim.child.kill('SIGTERM');
      assert.equal((await once(sim.child, 'exit') as [number | null])[0], 0);
    } finally {
      if (sim.child.exitCode === null) sim.child.kill('SIGKILL');
    }

    await fs.writeFile(file, `providers:\n  - profile: gmail\n    listen: 127.0.0.4:${port}\n    overrides: { ratePerMinut: 3 }\n`);
    const bad = await runCli(['sim', '--config', file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid simulator profile "gmail".*Unrecognized key.*ratePerMinut/);
    const unpaired = await runCli(['sim', '--profile', 'gmail']);
    assert.equal(unpaired.code, 2);
    assert.match(unpaired.stderr, /give one --listen per --profile/);
    const unknown = await runCli(['sim', '--profile', 'aol', '--listen', '127.0.0.4:0']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown stock profile "aol"/);
  } finally {
    await fbl.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('postlane sim --status on a non-loopback address is refused unless --public-status (the endpoint has no auth)', async () => {
  const bad = await runCli(['sim', '--profile', 'gmail', '--listen', '127.0.0.2:0', '--status', '192.0.2.1:0']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /192\.0\.2\.1 is not a loopback address; use 127\.0\.0\.1, or add --public-status/);
});
