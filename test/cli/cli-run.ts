// Runs the built `postlane` CLI as a child process, the way an operator does: the arguments as
// given (no --config appended), a chosen environment, stdin, and optionally a stdout whose reader
// is already gone (as in `postlane … | head -1`), or under a pseudo-terminal with util-linux `script`.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { BIN } from '../helpers/relay-process.js';

export interface RunResult { code: number | null; stdout: string; stderr: string }

/** The environment without POSTLANE_* variables, plus `extra`. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('POSTLANE_')) delete env[k];
  return { ...env, NO_COLOR: '1', ...extra };
}

export async function runCli(args: string[], opts: { env?: Record<string, string>; input?: string; closeStdout?: boolean } = {}): Promise<RunResult> {
  const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
  if (opts.closeStdout) child.stdout.destroy();
  return collect(child, opts.input ?? '');
}

async function collect(child: ChildProcess, input: string | null): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  if (input !== null) child.stdin?.end(input);
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

const shellQuote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/** util-linux `script` (Debian: bsdutils, essential), or a skip — a failure under CI=true. */
export function scriptCommand(t: TestContext): string | null {
  const found = ['/usr/bin/script', '/bin/script'].find((p) => fs.existsSync(p));
  if (found) return found;
  if (process.env.CI === 'true') assert.fail('util-linux `script` is required under CI (Debian package bsdutils)');
  t.skip('util-linux `script` not found: no pseudo-terminal to test with');
  return null;
}

/** `postlane <args>` on a pseudo-terminal; stdout arrives with CRLF line ends, normalised here. */
export class TtyRun {
  stdout = '';
  readonly child: ChildProcess;
  readonly closed: Promise<RunResult>;
  private waiters: { text: string; resolve: () => void }[] = [];

  constructor(script: string, args: string[], env: Record<string, string> = {}) {
    // `exec`: the shell that script(1) starts is replaced by node, whatever $SHELL is, so Ctrl-C
    // reaches the relay alone (a shell left waiting would die of the SIGINT and set the exit code).
    const command = `exec ${[process.execPath, BIN, ...args].map(shellQuote).join(' ')}`;
    this.child = spawn(script, ['-qec', command, '/dev/null'], { env: cliEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => {
      this.stdout += d.toString().replace(/\r\n/g, '\n');
      this.waiters = this.waiters.filter((w) => (this.stdout.includes(w.text) ? (w.resolve(), false) : true));
    });
    this.closed = collect(this.child, null).then((r) => ({ ...r, stdout: this.stdout }));
  }

  /** Resolves once `text` has been printed (or rejects if the process ends first). */
  waitFor(text: string): Promise<void> {
    if (this.stdout.includes(text)) return Promise.resolve();
    return Promise.race([
      new Promise<void>((resolve) => this.waiters.push({ text, resolve })),
      this.closed.then((r) => { if (!this.stdout.includes(text)) throw new Error(`exited (${r.code}) before printing ${JSON.stringify(text)}:\n${this.stdout}${r.stderr}`); }),
    ]);
  }

  /** Keys typed at the terminal (\x03 is Ctrl-C, \x04 Ctrl-D). */
  type(keys: string): void { this.child.stdin!.write(keys); }
}
