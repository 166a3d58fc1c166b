// Postfix's smtp-sink as a receiving MX (an independent SMTP server, not built on our stack): it
// accepts everything and dumps each transaction into its own file (envelope as X-Mail-Args /
// X-Rcpt-Args lines, then the message). Started on demand, so a test can have an MX that is down
// and then comes up. Callers check TOOLS.smtpSink first (test/helpers/require-tool.ts).
//
//   const sink = await startSmtpSink({ host: '127.0.0.4', port });
//   await sink.messages()  → the dumped transactions (a file still being written may be partial)
//   await sink.stop();   (also removes its dump directory)
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { eventually } from './relay-process.js';
import { TOOLS, toolPath } from './require-tool.js';

const run = promisify(execFile);

export interface SmtpSink { messages(): Promise<string[]>; stop(): Promise<void> }

export async function startSmtpSink(o: { host: string; port: number }): Promise<SmtpSink> {
  const bin = await toolPath(TOOLS.smtpSink);
  if (!bin) throw new Error('smtp-sink is not installed (apt-get install postfix)');
  // Its own temp dir, traversable by the unprivileged user smtp-sink runs as.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-sink-'));
  await fs.chmod(dir, 0o755);
  const dumps = path.join(dir, 'dumps');
  await fs.mkdir(dumps);
  const args: string[] = [];
  // As root it must drop privileges (-u); the dump directory then belongs to that user.
  if (process.getuid?.() === 0) {
    const uid = Number((await run('id', ['-u', 'nobody'])).stdout.trim());
    await fs.chown(dumps, uid, -1);
    args.push('-u', 'nobody');
  }
  const child: ChildProcess = spawn(bin, [...args, '-d', `${dumps}/`, `${o.host}:${o.port}`, '20'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  await eventually(() => {
    if (child.exitCode !== null) throw new Error(`smtp-sink exited: ${stderr.join('')}`);
    return canConnect(o.host, o.port);
  }, 10_000);
  return {
    async messages() {
      if (child.exitCode !== null) throw new Error(`smtp-sink exited: ${stderr.join('')}`);
      const files = await fs.readdir(dumps);
      return Promise.all(files.map((f) => fs.readFile(path.join(dumps, f), 'utf8')));
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}
