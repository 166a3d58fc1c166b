// What an operator following the README meets at the terminal, as child processes of the built
// CLI: --config before or after the command (or POSTLANE_CONFIG), defaults and help of `keys`,
// no password, an empty queue, the caveats of `domains records`, a closed stdout, `config` in
// human units and every config problem at once, a port in use as one line (trace only with --debug).
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { RelayProcess } from '../helpers/relay-process.js';
import { runCli, scriptCommand, TtyRun } from './cli-run.js';

const NO_PASSWORD = 'postlane: no password given (type it at the prompt, pipe it on stdin, or use --password)\n';

describe('postlane CLI: operator experience', () => {
  let relay: RelayProcess; // hostname "vm": not fully qualified, as on a fresh machine
  let fqdn: RelayProcess;  // hostname relay.test, TLS-RPT configured
  let file: string;

  before(async () => {
    relay = await RelayProcess.create({ hostname: 'vm' });
    fqdn = await RelayProcess.create({ domains: { tlsRpt: true } });
    file = relay.configFile;
  });
  after(async () => { await relay.cleanup(); await fqdn.cleanup(); });

  it('--config before or after the command, or POSTLANE_CONFIG: the same data directory', async () => {
    const added = await runCli(['--config', file, 'users', 'add', 'early', '--password', 'password-1']);
    assert.equal(added.code, 0, added.stderr);
    const names = (r: { stdout: string }) => (JSON.parse(r.stdout) as { name: string }[]).map((u) => u.name);
    assert.deepEqual(names(await runCli(['users', 'list', '--json', '--config', file])), ['early']);
    assert.deepEqual(names(await runCli(['-c', file, 'users', 'list', '--json'])), ['early']);
    assert.deepEqual(names(await runCli(['users', 'list', '--json'], { env: { POSTLANE_CONFIG: file } })), ['early']);
  });

  it('keys: --account defaults to default; the help says what is required and the default', async () => {
    const created = await runCli(['--config', file, 'keys', 'create', '--scope', 'send', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout) as { id: string; account: string; scopes: string[] };
    assert.deepEqual([key.account, key.scopes], ['default', ['send']]);
    const listed = JSON.parse((await runCli(['--config', file, 'keys', 'list', '--json'])).stdout) as { id: string }[];
    assert.deepEqual(listed.map((k) => k.id), [key.id]);
    assert.equal((await runCli(['--config', file, 'keys', 'revoke', key.id])).stdout, `API key ${key.id} revoked\n`);

    const help = (await runCli(['keys', 'create', '--help'])).stdout.replace(/\s+/g, ' ');
    assert.match(help, /--account <name> the account the key acts for \(default: "default"\)/);
    assert.match(help, /--scope <scopes> required: comma-separated send, read, admin/);
    const missing = await runCli(['--config', file, 'keys', 'create']);
    assert.notEqual(missing.code, 0);
    assert.equal(missing.stderr, "error: required option '--scope <scopes>' not specified\n");
    assert.match((await runCli(['webhooks', 'add', '--help'])).stdout.replace(/\s+/g, ' '), /--url <url> required: .* --account <name> the owning account \(default: "default"\)/);
  });

  it('users add with an empty stdin: "no password given", exit 2, nothing added', async () => {
    const r = await runCli(['--config', file, 'users', 'add', 'nopw', '--domain', 'example.com'], { input: '' });
    assert.deepEqual([r.code, r.stderr, r.stdout], [2, NO_PASSWORD, '']);
    assert.ok(!(await runCli(['--config', file, 'users', 'list'])).stdout.includes('nopw'));
  });

  it('users add with Ctrl-D at the password prompt: "no password given", exit 2', async (t) => {
    const script = scriptCommand(t);
    if (!script) return;
    const tty = new TtyRun(script, ['--config', file, 'users', 'add', 'ctrld']);
    await tty.waitFor('Password: ');
    tty.type('\x04');
    const r = await tty.closed;
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stdout, /^Password: \npostlane: no password given/m, 'script merges stderr into the terminal output');
  });

  it('queue list with nothing pending says so and where finished mail is', async () => {
    assert.equal((await runCli(['--config', file, 'queue', 'list'])).stdout, 'nothing is pending (delivered, bounced and expired mail: postlane queue list --all)\n');
    assert.equal((await runCli(['--config', file, 'queue', 'list', '--all'])).stdout, 'the queue is empty: nothing pending, and no finished mail kept (storage.retainFinished)\n');
    assert.equal((await runCli(['--config', file, 'queue', 'list', '--state', 'held'])).stdout, 'no recipient is held\n');
    assert.equal((await runCli(['--config', file, 'queue', 'list', '--json'])).stdout, '[]\n');
    const bad = await runCli(['--config', file, 'queue', 'list', '--state', 'lost']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Allowed choices are queued, deferred, delivering, held, delivered, bounced, expired/);
    assert.equal((await runCli(['--config', file, 'queue', 'list', '--state', 'deferred', '--limit', '50', '--json'])).stdout, '[]\n');
    const zero = await runCli(['--config', file, 'queue', 'list', '--limit', '0']);
    assert.notEqual(zero.code, 0);
    assert.match(zero.stderr, /--limit must be a positive integer/);
  });

  it('domains records: a warning for a short hostname; which keys enable MTA-STS and TLS-RPT', async () => {
    const added = await runCli(['--config', file, 'domains', 'add', 'example.com']);
    assert.equal(added.code, 0, added.stderr);
    for (const out of [added.stdout, (await runCli(['--config', file, 'domains', 'records', 'example.com'])).stdout]) {
      assert.match(out, /^example\.com\.\t3600\tIN\tTXT\t"v=spf1 a:vm ~all"$/m);
      assert.match(out, /^; WARNING: hostname "vm" is not a fully qualified domain name, so the SPF mechanism a:vm is wrong: set hostname in the config/m);
      assert.match(out, /^; Not shown, because not configured: MTA-STS \(set domains\.mtaSts\.policyHost\), TLS-RPT \(set domains\.tlsRpt: true\)\.$/m);
    }
    assert.equal((await fqdn.cli(['domains', 'add', 'example.com'])).code, 0);
    const good = (await fqdn.cli(['domains', 'records', 'example.com'])).stdout;
    assert.ok(!good.includes('WARNING'), good);
    assert.match(good, /^_smtp\._tls\.example\.com\./m);
    assert.match(good, /^; Not shown, because not configured: MTA-STS \(set domains\.mtaSts\.policyHost\)\.$/m);
    const json = JSON.parse((await runCli(['--config', file, 'domains', 'records', 'example.com', '--json'])).stdout) as unknown[];
    assert.ok(Array.isArray(json), '--json stays pure JSON');
  });

  it('a closed stdout (`| head -1`) ends the command quietly with 0', async () => {
    for (const args of [['domains', 'records', 'example.com'], ['config'], ['keys', 'create', '--help']]) {
      const r = await runCli(['--config', file, ...args], { closeStdout: true });
      assert.deepEqual([r.code, r.stderr], [0, ''], args.join(' '));
    }
  });

  it('config prints durations and sizes as written; a bad config lists every problem, exit 2, no trace', async () => {
    const shown = await runCli(['config', '--config', file]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^# effective configuration: defaults <- .*postlane\.yaml <- POSTLANE_\* environment; secrets hidden$/m);
    const yaml = YAML.parse(shown.stdout) as { delivery: { maxQueueTime: string }; limits: { maxMessageSize: string }; storage: { retainFinished: string } };
    assert.deepEqual([yaml.delivery.maxQueueTime, yaml.limits.maxMessageSize, yaml.storage.retainFinished], ['5d', '25MB', '7d']);
    const json = JSON.parse((await runCli(['config', '--json', '--config', file])).stdout) as typeof yaml;
    assert.equal(json.delivery.maxQueueTime, '5d');

    const bad = path.join(relay.dir, 'bad.yaml');
    await fs.writeFile(bad, 'delivery: { maxQueueTime: soon }\nlimits: { maxMessageSize: lots }\nlog: { levle: info }\n');
    const r = await runCli(['config', '--config', bad]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, [
      `postlane: invalid configuration in ${bad} (3 problems):`,
      '  delivery.maxQueueTime: expected a duration like "30s", "5m", "5d"',
      '  limits.maxMessageSize: expected a size like "25MB", "512KB" or bytes',
      '  log.levle: unknown key', '',
    ].join('\n'));
  });

  it('a port in use: one line naming the listener, exit 1; the stack trace only with --debug or POSTLANE_DEBUG=1', async () => {
    const busy = net.createServer().listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const config = path.join(relay.dir, 'busy.yaml');
      const base = YAML.parse(await fs.readFile(file, 'utf8')) as { smtp: Record<string, unknown> };
      await fs.writeFile(config, YAML.stringify({ ...base, smtp: { ...base.smtp, submission: { host: '127.0.0.1', port } } }));
      const r = await runCli(['start', '--config', config]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `postlane: cannot listen on 127.0.0.1:${port} (smtp.submission.port): the address is already in use `
        + '(another Postlane or mail server?); stop it or change smtp.submission.port in the config\n');
      for (const debug of [await runCli(['start', '--config', config, '--debug']), await runCli(['start', '--config', config], { env: { POSTLANE_DEBUG: '1' } })]) {
        assert.equal(debug.code, 1);
        assert.match(debug.stderr, /^postlane: cannot listen on .*\nError: listen EADDRINUSE.*\n {4}at /);
      }
    } finally {
      busy.close();
    }
  });
});
