// Runs the built relay as a child process (`node bin/postlane.js start`) with a temp data dir and a
// generated YAML config, reads its JSON log lines, and runs CLI commands against the same config.
// Used by the end-to-end and crash tests.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import readline from 'node:readline';
import YAML from 'yaml';
import type { DnsServer } from './dns-server.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
export const BIN = path.join(ROOT, 'bin/postlane.js');

export interface LogLine { event?: string; level?: number; msg?: string; [k: string]: unknown }

export class RelayProcess {
  child: ChildProcess | null = null;
  logs: LogLine[] = [];
  /** Log lines of earlier runs of this relay (before the last start()). */
  previousLogs: LogLine[] = [];
  addresses: Record<string, { host: string; port: number }> = {};
  private waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

  /** What the relay wrote on stderr (this run). */
  stderr: string[] = [];

  /** Extra environment of the relay process (not of cli()), e.g. a slow disk's LD_PRELOAD (slow-fs.ts). */
  env: Record<string, string> = {};

  private constructor(readonly dir: string, readonly configFile: string) {}

  /** Write the config (merged over test defaults) into a fresh temp dir. */
  static async create(config: Record<string, unknown>): Promise<RelayProcess> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-e2e-'));
    const base = {
      hostname: 'relay.test',
      dataDir: path.join(dir, 'data'),
      smtp: {
        submission: { host: '127.0.0.1', port: 0 }, submissions: { host: '127.0.0.1', port: 0 },
        alt: false, mx: { host: '127.0.0.1', port: 0 },
      },
      http: { host: '127.0.0.1', port: 0 },
      metrics: { host: '127.0.0.1', port: 0 }, // never the default 9025: tests and nodes run side by side
      log: { level: 'info' },
      // every test MX, sink and simulator listens on 127.0.0.x: loopback MX addresses allowed (refused by default)
      delivery: { mxAddresses: 'any' },
    };
    const merged = deepMerge(base, config);
    const configFile = path.join(dir, 'postlane.yaml');
    await fs.writeFile(configFile, YAML.stringify(merged));
    return new RelayProcess(dir, configFile);
  }

  /**
   * Start and wait for 'relay.started'; resolves with the listener addresses. The bound only catches
   * a relay that never starts: a start takes about 3 s of CPU, and several at once beside another
   * test file on a loaded 2-core machine took over 20 s (the known start-up timeouts of cluster3,
   * shaping-cluster, inbound and metrics-listener at load 11–23).
   */
  async start(timeoutMs = 60_000): Promise<void> {
    this.previousLogs.push(...this.logs);
    this.logs = [];
    this.child = spawn(process.execPath, [BIN, 'start', '--config', this.configFile], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...cleanEnv(), ...this.env } });
    const rl = readline.createInterface({ input: this.child.stdout! });
    rl.on('line', (line) => this.onLine(line));
    const stderr: string[] = this.stderr = [];
    this.child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
    const started = await Promise.race([
      this.waitForLog((l) => l.event === 'relay.started', timeoutMs),
      once(this.child, 'exit').then(([code]) => { throw new Error(`relay exited with ${code}: ${stderr.join('')}`); }),
    ]);
    this.addresses = started.listeners as Record<string, { host: string; port: number }>;
  }

  private onLine(line: string) {
    let parsed: LogLine;
    try { parsed = JSON.parse(line) as LogLine; } catch { parsed = { msg: line }; }
    this.logs.push(parsed);
    this.waiters = this.waiters.filter((w) => (w.pred(parsed) ? (w.resolve(parsed), false) : true));
  }

  waitForLog(pred: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    const found = this.logs.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a log line')), timeoutMs);
      this.waiters.push({ pred, resolve: (l) => { clearTimeout(timer); resolve(l); } });
    });
  }

  port(listener: string): number {
    const a = this.addresses[listener];
    if (!a) throw new Error(`listener ${listener} not running`);
    return a.port;
  }

  /** SIGKILL (crash) or SIGTERM (graceful); resolves with the exit code/signal. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return { code: child?.exitCode ?? null, signal: child?.signalCode ?? null };
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child.kill(signal);
    const [code, sig] = await exited;
    this.child = null;
    return { code, signal: sig };
  }

  /** `postlane domains add <domain>` (both DKIM keys, selector s1 unless given), its TXT records published on `dns`. */
  async addSigningDomain(dns: Pick<DnsServer, 'set'>, domain: string, args: string[] = ['--key', 'both', '--selector', 's1']): Promise<void> {
    const added = await this.cli(['domains', 'add', domain, ...args, '--json']);
    if (added.code !== 0) throw new Error(`domains add ${domain} failed (${added.code}): ${added.stderr}`);
    for (const r of JSON.parse(added.stdout).records as { name: string; type: string; value: string }[]) {
      if (r.type === 'TXT') dns.set(r.name, 'TXT', [r.value.match(/.{1,250}/g)!]);
    }
  }

  /** Run `postlane <args> --config <this config>`; input goes to stdin. */
  cli(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const p = execFile(process.execPath, [BIN, ...args, '--config', this.configFile], { env: cleanEnv() }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
      p.stdin!.end(input ?? '');
    });
  }

  async cleanup() {
    await this.stop('SIGKILL');
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('POSTLANE_')) delete env[k];
  return env;
}

/** `b` merged over `a`, objects key by key (arrays and other values replaced): how a test's config overrides defaults. */
export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
      ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** Poll `fn` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 15_000, stepMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
