// Test harness for the SMTP ingress: a real SqliteQueueStore in a temp dir, startSmtpIngress on
// 127.0.0.1 port 0, and a small line-level SMTP client (plain, STARTTLS, implicit TLS) that
// returns each reply as its exact wire text.
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { startSmtpIngress, type SmtpIngress } from '../../src/ingress/index.js';
import { SqliteQueueStore } from '../../src/store/sqlite/sqlite-store.js';
import { createSelfSigned } from '../../src/tls/certificates.js';
import { systemClock, type Clock } from '../../src/clock.js';
import { QuotaService } from '../../src/accounts/quota.js';
import type { AuthGrant } from '../../src/ingress/smtp/session.js';
import type { QuotaCharger } from '../../src/ingress/smtp/connection.js';
import { fixedSecrets } from '../../src/events/secret-ring.js';

let certificate: Promise<{ cert: string; key: string }> | null = null;
export const testCertificate = () => (certificate ??= createSelfSigned('relay.test'));

export interface Harness {
  config: Readonly<Config>;
  store: SqliteQueueStore;
  ingress: SmtpIngress;
  /** Every log line, parsed. */
  logs: Record<string, unknown>[];
  port(listener: 'submission' | 'submissions' | 'alt' | 'mx'): number;
  /** Stored messages (any state), oldest first. */
  storedIds(): Promise<string[]>;
  body(id: string): Promise<string>;
  close(): Promise<void>;
}

export const USERS = new Map([['alice', 'secret'], ['bob', 'pä$$ wörd']]);

export interface HarnessOptions {
  clock?: Clock;
  /** Replaces the check against USERS. */
  authenticate?: (user: string, password: string) => Promise<boolean | AuthGrant>;
  /** Quotas: true = a QuotaService on the harness store and clock; or a charger of the test's own. */
  quota?: boolean | QuotaCharger;
}

export async function startHarness(overrides: Record<string, unknown> = {}, opts: HarnessOptions = {}): Promise<Harness> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-ingress-'));
  const config = loadConfig({
    file: undefined, env: {},
    overrides: {
      hostname: 'relay.test', dataDir: dir, localDomains: ['bounces.relay.test'],
      'smtp.submission': { host: '127.0.0.1', port: 0 }, 'smtp.submissions': { host: '127.0.0.1', port: 0 },
      'smtp.alt': false, 'smtp.mx': { host: '127.0.0.1', port: 0 },
      ...overrides,
    },
  });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).split('\n')) if (l) logs.push(JSON.parse(l)); cb(); } });
  const logger = pino({ level: 'debug' }, sink);
  const store = new SqliteQueueStore({ dataDir: dir, logger: pino({ level: 'silent' }) });
  await store.open();
  const quota = opts.quota === true ? new QuotaService(store, opts.clock ?? systemClock) : opts.quota || undefined;
  const ingress = await startSmtpIngress({
    config, store, tls: await testCertificate(), logger, clock: opts.clock, quota, bounceSecrets: fixedSecrets(Buffer.from('ingress harness bounce secret')),
    authenticate: opts.authenticate ?? (async (user, password) => USERS.get(user) === password),
  });
  return {
    config, store, ingress, logs,
    port: (name) => ingress.addresses[name]!.port,
    storedIds: async () => (await store.listRecipients({ includeFinal: true })).map((r) => r.messageId).filter((id, i, all) => all.indexOf(id) === i),
    body: async (id) => {
      const parts: Buffer[] = [];
      for await (const c of store.readBody(id)) parts.push(c as Buffer);
      return Buffer.concat(parts).toString('utf8');
    },
    close: async () => {
      await ingress.close(500);
      await store.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** A line-level SMTP client: send lines or raw bytes, read whole replies as wire text. */
export class Client {
  #buf = '';
  #waiters: (() => void)[] = [];
  #ended = false;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;

  private constructor(public socket: net.Socket) {
    this.closed = new Promise((r) => { this.#resolveClosed = r; });
    this.#attach(socket);
  }

  /** `preface`: bytes written first, before any TLS (a load balancer's PROXY header). */
  static async connect(port: number, o: { tls?: boolean; localAddress?: string; preface?: string | Buffer } = {}): Promise<Client> {
    const tcp = net.connect({ host: '127.0.0.1', port, localAddress: o.localAddress });
    if (o.preface !== undefined) tcp.write(o.preface);
    const socket = o.tls ? tls.connect({ socket: tcp, rejectUnauthorized: false, servername: 'relay.test' }) : tcp;
    await new Promise<void>((resolve, reject) => {
      socket.once(o.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new Client(socket);
  }

  /** Connect, read the greeting, EHLO; for submission also STARTTLS + EHLO + AUTH PLAIN. */
  static async ready(port: number, mode: 'plain' | 'starttls' | 'auth' | 'implicit-auth', user = 'alice'): Promise<Client> {
    const c = await Client.connect(port, { tls: mode === 'implicit-auth' });
    await c.read();
    await c.cmd('EHLO client.test');
    if (mode === 'starttls' || mode === 'auth') await c.startTls();
    if (mode === 'auth' || mode === 'implicit-auth') {
      const r = await c.cmd(`AUTH PLAIN ${Buffer.from(`\0${user}\0${USERS.get(user)}`).toString('base64')}`);
      if (!r.startsWith('235')) throw new Error(`AUTH failed: ${r}`);
    }
    return c;
  }

  #attach(socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => { this.#buf += d; this.#notify(); });
    socket.on('error', () => { /* seen as close */ });
    socket.on('close', () => { this.#ended = true; this.#notify(); this.#resolveClosed(); });
  }

  #notify() { for (const w of this.#waiters.splice(0)) w(); }

  write(data: string | Buffer) { this.socket.write(data); }
  send(line: string) { this.socket.write(line + '\r\n'); }

  /** One complete reply ("250-a\r\n250 b\r\n"); rejects after timeoutMs or if the connection closed first. */
  async read(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(this.#buf);
      if (m) { this.#buf = this.#buf.slice(m[0].length); return m[0]; }
      if (this.#ended) throw new Error(`connection closed; unread: ${JSON.stringify(this.#buf)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms; unread: ${JSON.stringify(this.#buf)}`);
      await new Promise<void>((resolve) => { const t = setTimeout(resolve, left); this.#waiters.push(() => { clearTimeout(t); resolve(); }); });
    }
  }

  async cmd(line: string): Promise<string> { this.send(line); return this.read(); }

  /** STARTTLS, then EHLO again over TLS. */
  async startTls(): Promise<void> {
    const r = await this.cmd('STARTTLS');
    if (!r.startsWith('220 ')) throw new Error(`STARTTLS refused: ${r}`);
    await this.upgrade();
    await this.cmd('EHLO client.test');
  }

  /** The TLS handshake over the current socket (after a 220 to STARTTLS). */
  async upgrade(): Promise<void> {
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false, servername: 'relay.test' });
    await new Promise<void>((resolve, reject) => { secure.once('secureConnect', resolve); secure.once('error', reject); });
    this.socket = secure;
    this.#attach(secure);
  }

  /** Resolves true if the server closed the connection within timeoutMs. */
  async isClosedWithin(timeoutMs = 3000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([this.closed.then(() => true), new Promise<boolean>((r) => { timer = setTimeout(() => r(false), timeoutMs); })]);
    clearTimeout(timer);
    return closed;
  }

  /** Whatever was received and not read yet. */
  get unread(): string { return this.#buf; }

  end() { this.socket.destroy(); }
}

/** Poll until cond() holds (for effects on the server side that have no event to wait on). */
export async function eventually(cond: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
