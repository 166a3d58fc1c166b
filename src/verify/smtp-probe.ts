// Owns the optional SMTP RCPT probe (config verify.smtpProbe, off by default): one short session
// with the domain's first reachable mail host — EHLO, MAIL FROM:<>, RCPT TO:<the address>, RCPT
// TO:<a random address at the same domain> (the catch-all test), QUIT. Never DATA: no mail is
// sent. Probes are rate-limited per MX host (in this process) and never made to hosts matching
// `skipMxHosts` (providers known to blocklist probers: Gmail, Yahoo, Microsoft, Apple). A plain
// TCP dialog (no STARTTLS: only the envelope crosses the wire, and a probe must stay cheap), its
// socket injected for tests. The outcome feeds the verdict table as reason codes. The probed host
// is the domain's DNS's choice, so it is held like a hostile MX: a reply must be complete within
// the timeout (a dripped one would otherwise hold the probe, and the API request, forever) and at
// most MAX_REPLY_CHARS long; the rate counts per host name and per address (many names can point
// at one victim).
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';

export interface ProbeSettings { timeoutMs: number; perHostPerMinute: number; skipMxHosts: readonly string[]; port: number; heloName: string }

export type ProbeOutcome =
  | { kind: 'accepted'; catchAll: boolean | null; reply: string }
  | { kind: 'rejected'; reply: string }
  | { kind: 'inconclusive'; why: string }
  | { kind: 'skipped'; why: string };

/** Whether `host` is one of the hosts (or under one of the domains) in `patterns`. */
export const isListedHost = (patterns: readonly string[], host: string): boolean =>
  patterns.some((p) => host === p || host.endsWith(`.${p}`));

interface Reply { code: number; text: string }

export class SmtpProber {
  readonly #recent = new Map<string, number[]>();
  constructor(private readonly settings: ProbeSettings, private readonly clock: Clock, private readonly connect: (host: string, port: number) => net.Socket = (h, p) => net.connect(p, h)) {}

  /** Probes `address` (domain `domain`) at MX `host` reached at `ip`. */
  async probe(address: string, domain: string, host: string, ip: string): Promise<ProbeOutcome> {
    if (isListedHost(this.settings.skipMxHosts, host)) return { kind: 'skipped', why: `${host} belongs to a provider that blocks probes` };
    if (!this.#charge(host) || !this.#charge(ip)) return { kind: 'skipped', why: `probe rate for ${host} reached (verify.smtpProbe.perHostPerMinute)` };
    const dialog = new Dialog(this.connect(ip, this.settings.port), this.settings.timeoutMs);
    try {
      const greeting = await dialog.read();
      if (greeting.code !== 220) return { kind: 'inconclusive', why: `greeting ${format(greeting)}` };
      let r = await dialog.command(`EHLO ${this.settings.heloName}`);
      if (r.code !== 250) r = await dialog.command(`HELO ${this.settings.heloName}`);
      if (r.code !== 250) return { kind: 'inconclusive', why: `EHLO ${format(r)}` };
      r = await dialog.command('MAIL FROM:<>');
      if (r.code !== 250) return { kind: 'inconclusive', why: `MAIL FROM ${format(r)}` };
      const rcpt = await dialog.command(`RCPT TO:<${address}>`);
      if (rcpt.code >= 500) return { kind: 'rejected', reply: format(rcpt) };
      if (rcpt.code !== 250 && rcpt.code !== 251) return { kind: 'inconclusive', why: `RCPT ${format(rcpt)}` };
      const random = await dialog.command(`RCPT TO:<postlane-probe-${randomBytes(8).toString('hex')}@${domain}>`);
      const catchAll = random.code === 250 || random.code === 251 ? true : random.code >= 500 ? false : null;
      return { kind: 'accepted', catchAll, reply: format(rcpt) };
    } catch (err) {
      return { kind: 'inconclusive', why: (err as Error).message };
    } finally {
      await dialog.quit();
    }
  }

  /** A probe slot for `host` (a name or an address) in the last minute, or false. */
  #charge(host: string): boolean {
    const now = this.clock.now();
    const recent = (this.#recent.get(host) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= this.settings.perHostPerMinute) { this.#recent.set(host, recent); return false; }
    recent.push(now);
    this.#recent.set(host, recent);
    return true;
  }
}

const format = (r: Reply) => `${r.code} ${r.text}`.trim().slice(0, 200);

/** One reply's characters at most, all its lines together (an honest EHLO reply is under 1 KiB). */
const MAX_REPLY_CHARS = 16 * 1024;

/** One SMTP client dialog: commands, multi-line replies, each within one timeout and MAX_REPLY_CHARS. */
class Dialog {
  #buffer = '';
  #waiter: (() => void) | null = null;
  #error: Error | null = null;

  constructor(private readonly socket: net.Socket, private readonly timeoutMs: number) {
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => this.#fail(new Error('timed out')));
    socket.on('data', (d: string) => { this.#buffer += d; this.#wake(); });
    socket.on('error', (e) => this.#fail(new Error(`connection failed: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    socket.on('close', () => this.#fail(new Error('connection closed')));
  }

  #fail(err: Error) { this.#error ??= err; this.#wake(); }
  #wake() { const w = this.#waiter; this.#waiter = null; w?.(); }

  /** One reply, complete within the timeout (the socket's idle timeout alone lets a dripped reply run forever). */
  async read(): Promise<Reply> {
    const deadline = setTimeout(() => this.#fail(new Error('timed out')), this.timeoutMs);
    try {
      return await this.#readReply();
    } finally {
      clearTimeout(deadline);
    }
  }

  async #readReply(): Promise<Reply> {
    const lines: string[] = [];
    let chars = 0;
    for (;;) {
      const nl = this.#buffer.indexOf('\n');
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl).replace(/\r$/, '');
        this.#buffer = this.#buffer.slice(nl + 1);
        if (!/^\d{3}[ -]?/.test(line)) throw new Error('not an SMTP reply');
        chars += line.length;
        if (chars > MAX_REPLY_CHARS) throw new Error('reply too long');
        lines.push(line.slice(4));
        if (line[3] !== '-') return { code: Number(line.slice(0, 3)), text: lines.join(' ') };
        continue;
      }
      if (this.#error) throw this.#error;
      if (this.#buffer.length > 4096) throw new Error('reply line too long');
      await new Promise<void>((resolve) => { this.#waiter = resolve; });
    }
  }

  async command(line: string): Promise<Reply> {
    if (this.#error) throw this.#error;
    this.socket.write(`${line}\r\n`);
    return this.read();
  }

  async quit(): Promise<void> {
    if (!this.#error && this.socket.writable) {
      this.socket.write('QUIT\r\n');
      await Promise.race([this.read().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    this.socket.destroy();
  }
}
