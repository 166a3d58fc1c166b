// What `postlane start` prints: on a terminal (a pseudo-terminal from util-linux `script`) readable
// log lines and a banner with the version, listeners, data directory, the hostname warning and the
// next step, and Ctrl-C stops it; piped, nothing but JSON log lines, the warning among them, and
// node ids made from the configured hostname.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RelayProcess } from '../helpers/relay-process.js';
import { scriptCommand, TtyRun } from './cli-run.js';

describe('postlane start output', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  after(async () => { for (const c of cleanups) await c(); });

  it('on a terminal: readable log lines, a banner, the next step; Ctrl-C stops the relay', async (t) => {
    const script = scriptCommand(t);
    if (!script) return;
    const relay = await RelayProcess.create({ hostname: 'vm', http: { host: '127.0.0.1', port: 0 } });
    cleanups.push(() => relay.cleanup());
    const tty = new TtyRun(script, ['start', '--config', relay.configFile]);
    cleanups.push(() => { if (tty.child.exitCode === null) tty.child.kill('SIGKILL'); });
    await tty.waitFor('Ctrl-C stops the relay.\n');
    const out = tty.stdout;
    const pid = /nodeId=vm:(\d+):[0-9a-f]{4}/.exec(out)?.[1];
    cleanups.push(() => { try { if (pid) process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ } });

    assert.match(out, /^\d\d:\d\d:\d\d {2}WARN {3}config\.hostname_not_fqdn {2}hostname "vm" is not a fully qualified domain name/m);
    assert.match(out, /^\d\d:\d\d:\d\d {2}INFO {3}relay\.started {2}Postlane started {2}nodeId=vm:\d+:[0-9a-f]{4} /m);
    assert.ok(!/^\{/m.test(out), 'no JSON on a terminal');
    const banner = out.slice(out.indexOf('Postlane 0'));
    assert.match(banner, /^Postlane \d+\.\d+\.\d+\S* is running as vm\n/);
    assert.match(banner, /^ {2}submission {3}127\.0\.0\.1:\d+ +SMTP submission: STARTTLS, then AUTH$/m);
    assert.match(banner, /^ {2}submissions {2}127\.0\.0\.1:\d+ +SMTP submission over TLS, AUTH$/m);
    assert.match(banner, /^ {2}mx {11}127\.0\.0\.1:\d+ +inbound mail for local domains only$/m);
    assert.match(banner, /^ {2}http {9}http:\/\/127\.0\.0\.1:\d+ +HTTP API \/v1, \/openapi\.json, \/healthz, \/readyz; dashboard at \/ \(a browser\)$/m);
    assert.match(banner, /^ {2}metrics {6}127\.0\.0\.1:\d+ +Prometheus \/metrics, \/healthz, \/readyz$/m, 'metrics: their own listener, not the API\'s');
    assert.ok(banner.includes(`\n  data         ${relay.dir}/data\n`), banner);
    assert.match(banner, /^warning: hostname "vm" is not a fully qualified domain name/m);
    assert.ok(banner.includes(`\nNext: add a user: npx postlane users add NAME --domain example.com --config ${relay.configFile}\n`), banner);

    tty.type('\x03');
    const end = await tty.closed;
    assert.equal(end.code, 0, `exit ${end.code}; the end of the output:\n${end.stdout.slice(-3000)}${end.stderr}`);
    assert.match(end.stdout, /INFO {3}relay\.stopped {2}Postlane stopped/);
  });

  it('piped: JSON lines only, with the hostname warning; the node id is the configured hostname', async () => {
    const relay = await RelayProcess.create({ hostname: 'vm' });
    cleanups.push(() => relay.cleanup());
    await relay.start();
    const warning = await relay.waitForLog((l) => l.event === 'config.hostname_not_fqdn');
    assert.deepEqual([warning.level, warning.hostname], [40, 'vm']);
    const started = await relay.waitForLog((l) => l.event === 'relay.started');
    assert.match(String(started.nodeId), /^vm:\d+:[0-9a-f]{4}$/);
    const stopped = await relay.stop('SIGTERM');
    assert.equal(stopped.code, 0, JSON.stringify({ stopped, logs: relay.logs.map((l) => l.event) }));
    assert.ok(relay.logs.length > 3);
    assert.deepEqual(relay.logs.filter((l) => typeof l.level !== 'number' || typeof l.event !== 'string'), [], 'every stdout line is a JSON event');

    const good = await RelayProcess.create({});
    cleanups.push(() => good.cleanup());
    await good.start();
    await good.stop('SIGTERM');
    assert.equal(good.logs.find((l) => l.event === 'config.hostname_not_fqdn'), undefined, 'relay.test is fully qualified');
    assert.match(String(good.logs.find((l) => l.event === 'relay.started')?.nodeId), /^relay\.test:\d+:[0-9a-f]{4}$/);
  });
});
