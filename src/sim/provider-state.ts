// Owns one simulated provider's memory and verdicts, with no sockets: per client IP message
// windows and open sessions, per recipient windows, the greylist, what was received and the
// counters. simulator.ts asks it at each SMTP step (connect/mail/rcpt/data) and sends what it
// answers; a null answer accepts. Time comes from an injected Clock so the rules are testable
// without sleeping.
import crypto from 'node:crypto';
import type { Clock } from '../clock.js';
import { networkMatcher } from '../net/networks.js';
import type { SimProfile, SimReply } from './profile.js';

export type SimStage = 'connect' | 'mail' | 'rcpt' | 'data';
export type RefusalReason =
  | 'connection-limit' | 'rate-limit' | 'recipient-rate-limit' | 'greylisted' | 'unknown-recipient'
  | 'blocked-ip' | 'blocked-sender' | 'blocked-content' | 'magic-bounce';
export type MagicKind = 'success' | 'bounce' | 'ooto' | 'complaint' | 'suppressionlist';

/** A reply ready for the wire: code and one or more lines (placeholders filled). */
export interface WireReply { code: number; lines: string[]; reason: RefusalReason }

export interface SimReceived {
  provider: string;
  clientIp: string;
  mailFrom: string;          // '' for the null sender
  rcptTo: string[];
  size: number;
  tls: boolean;
  receivedAt: number;
  /** Recipients that are SES-like magic addresses, by kind. */
  magic: Partial<Record<string, MagicKind>>;
  /** The message as received (absent when the simulator keeps no bodies, e.g. the CLI). */
  body?: Buffer;
}

export interface SimRefusal { provider: string; at: number; clientIp: string; stage: SimStage; reason: RefusalReason; code: number; mailFrom?: string; rcpt?: string }

/** What happened, as it happens (the CLI prints these as JSON lines). Bodies are left out. */
export type SimEvent = ({ type: 'received' } & Omit<SimReceived, 'body'>) | ({ type: 'refused' } & SimRefusal) | ({ type: 'complaint' } & SimComplaint);

/** A feedback report (ARF) the simulator mailed back for a message to complaint@ (complaint.ts). */
export interface SimComplaint { provider: string; at: number; rcpt: string; to: string; reply?: string; error?: string }

export interface SimStats {
  provider: string;
  sessions: number;
  openSessions: number;
  maxOpenSessions: number;
  messages: number;
  recipients: number;
  bytes: number;
  refusals: Record<RefusalReason, number>;
}

const REASONS: RefusalReason[] = ['connection-limit', 'rate-limit', 'recipient-rate-limit', 'greylisted', 'unknown-recipient', 'blocked-ip', 'blocked-sender', 'blocked-content', 'magic-bounce'];
const MAGIC = /^(success|bounce|ooto|complaint|suppressionlist)(?:\+[^@]*)?@/i;
const MAX_REFUSALS_KEPT = 10_000;
/** Received messages listed (received(), /received); older ones only count in stats(). A soak run must not grow without end. */
export const MAX_RECEIVED_KEPT = 10_000;

/** A glob over an address ("*" any run, "?" one char); a pattern ending in "@" matches any domain. */
export function addressMatcher(globs: readonly string[]): (address: string) => boolean {
  if (globs.length === 0) return () => false;
  const res = globs.map((g) => {
    const pattern = g.endsWith('@') ? `${g}*` : g;
    const body = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
    return new RegExp(`^${body}$`, 'i');
  });
  return (address) => res.some((re) => re.test(address));
}

export function magicKind(address: string): MagicKind | null {
  const m = MAGIC.exec(address);
  return m ? (m[1]!.toLowerCase() as MagicKind) : null;
}

/** Timestamps in a sliding window; `count` drops the old ones first. */
class Window {
  #times: number[] = [];
  count(now: number, windowMs: number): number {
    while (this.#times.length && this.#times[0]! <= now - windowMs) this.#times.shift();
    return this.#times.length;
  }
  add(now: number, windowMs: number) { this.count(now, windowMs); this.#times.push(now); }
}

export class ProviderState {
  readonly received: SimReceived[] = [];
  readonly refusals: SimRefusal[] = [];
  #open = new Map<string, number>();
  #ipWindows = new Map<string, Window>();
  /** Per IP, admissions at CONNECT or MAIL already counted in its window and not yet received. */
  #admitted = new Map<string, number>();
  #rcptWindows = new Map<string, Window>();
  #greylist = new Map<string, number>();
  #counters: Omit<SimStats, 'provider' | 'openSessions' | 'refusals'> = { sessions: 0, maxOpenSessions: 0, messages: 0, recipients: 0, bytes: 0 };
  #refusalCounts = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<RefusalReason, number>;
  #waiters = new Set<() => void>();
  #isUnknown: (a: string) => boolean;
  #isBlockedSender: (a: string) => boolean;
  #isBlockedIp: (ip: string) => boolean;
  #content: string[];

  constructor(readonly provider: string, readonly profile: SimProfile, private clock: Clock, private onEvent: (e: SimEvent) => void = () => undefined) {
    this.#isUnknown = addressMatcher(profile.unknownRecipients);
    this.#isBlockedSender = addressMatcher(profile.blockedSenders);
    this.#isBlockedIp = networkMatcher(profile.blockedIps);
    this.#content = profile.blockedContent.map((s) => s.toLowerCase());
  }

  /** A session opens: null accepts (and counts it open until `close`), else the greeting refusal. */
  connect(ip: string): WireReply | null {
    this.#counters.sessions++;
    const p = this.profile;
    if (p.blockedIpAt === 'connect' && this.#isBlockedIp(ip)) return this.#refuse('connect', 'blocked-ip', p.blockedIpReply, { ip });
    if (p.maxConnectionsPerIp !== null && (this.#open.get(ip) ?? 0) >= p.maxConnectionsPerIp) {
      return this.#refuse('connect', 'connection-limit', p.connectionLimitReply, { ip });
    }
    if (p.rateLimitAt === 'connect' && !this.#admit(ip)) return this.#refuse('connect', 'rate-limit', p.rateLimitReply, { ip });
    const open = (this.#open.get(ip) ?? 0) + 1;
    this.#open.set(ip, open);
    this.#counters.maxOpenSessions = Math.max(this.#counters.maxOpenSessions, this.#openTotal());
    return null;
  }

  /** A session accepted by `connect` ended. */
  close(ip: string) {
    const open = (this.#open.get(ip) ?? 1) - 1;
    if (open <= 0) this.#open.delete(ip); else this.#open.set(ip, open);
  }

  mail(ip: string, sender: string): WireReply | null {
    const p = this.profile;
    const vars = { ip, sender };
    if (p.blockedIpAt === 'mail' && this.#isBlockedIp(ip)) return this.#refuse('mail', 'blocked-ip', p.blockedIpReply, vars);
    if (sender && this.#isBlockedSender(sender)) return this.#refuse('mail', 'blocked-sender', p.blockedSenderReply, vars);
    if (p.rateLimitAt === 'mail' && !this.#admit(ip)) return this.#refuse('mail', 'rate-limit', p.rateLimitReply, vars);
    return null;
  }

  rcpt(ip: string, sender: string, rcpt: string): WireReply | null {
    const p = this.profile;
    const vars = { ip, sender, rcpt };
    const magic = p.magicAddresses ? magicKind(rcpt) : null;
    if (magic === 'bounce' || magic === 'suppressionlist') return this.#refuse('rcpt', 'magic-bounce', p.unknownRecipientReply, vars);
    if (this.#isUnknown(rcpt)) return this.#refuse('rcpt', 'unknown-recipient', p.unknownRecipientReply, vars);
    if (p.greylistDelay !== null && this.#isGreylisted(ip, sender, rcpt, p.greylistDelay)) return this.#refuse('rcpt', 'greylisted', p.greylistReply, vars);
    if (p.recipientRatePerMinute !== null) {
      const w = this.#rcptWindows.get(rcpt.toLowerCase());
      if (w && w.count(this.clock.now(), p.rateWindow) >= this.#capacity(p.recipientRatePerMinute)) {
        return this.#refuse('rcpt', 'recipient-rate-limit', p.recipientRateReply, vars);
      }
    }
    if (p.rateLimitAt === 'rcpt' && this.#overRate(ip)) return this.#refuse('rcpt', 'rate-limit', p.rateLimitReply, vars);
    return null;
  }

  /** The body was read: refuse it, or record it as received. */
  data(ip: string, envelope: { mailFrom: string; rcptTo: string[]; tls: boolean }, body: Buffer, keepBody: boolean): WireReply | null {
    const p = this.profile;
    const vars = { ip, sender: envelope.mailFrom, rcpt: envelope.rcptTo[0] ?? '' };
    if (this.#content.length) {
      const text = body.toString('latin1').toLowerCase();
      if (this.#content.some((c) => text.includes(c))) return this.#refuse('data', 'blocked-content', p.blockedContentReply, vars);
    }
    if (p.rateLimitAt === 'data' && this.#overRate(ip)) return this.#refuse('data', 'rate-limit', p.rateLimitReply, vars);
    this.#record(ip, envelope, body, keepBody);
    return null;
  }

  stats(): SimStats {
    return { provider: this.provider, ...this.#counters, openSessions: this.#openTotal(), refusals: { ...this.#refusalCounts } };
  }

  /** Resolves once at least n messages were received (or rejects after timeoutMs). */
  waitFor(n: number, timeoutMs: number): Promise<SimReceived[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.#counters.messages < n) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(this.received);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`simulator ${this.provider}: ${this.#counters.messages} of ${n} messages after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  #record(ip: string, env: { mailFrom: string; rcptTo: string[]; tls: boolean }, body: Buffer, keepBody: boolean) {
    const now = this.clock.now();
    const magic: SimReceived['magic'] = {};
    for (const r of env.rcptTo) {
      const kind = this.profile.magicAddresses ? magicKind(r) : null;
      if (kind) magic[r] = kind;
      // Windows only where a rate is counted, trimmed as they grow: a soak run keeps no per-message state.
      if (this.profile.recipientRatePerMinute === null) continue;
      const key = r.toLowerCase();
      const w = this.#rcptWindows.get(key) ?? new Window();
      w.add(now, this.profile.rateWindow);
      this.#rcptWindows.set(key, w);
    }
    if (this.profile.ratePerMinute !== null) {
      const pending = this.#admitted.get(ip) ?? 0;
      if (pending > 1) this.#admitted.set(ip, pending - 1);
      else if (pending === 1) this.#admitted.delete(ip);
      else this.#countIn(ip, now); // not admitted earlier (the limit is at RCPT or DATA): counted now
    }
    const received: Omit<SimReceived, 'body'> = {
      provider: this.provider, clientIp: ip, mailFrom: env.mailFrom, rcptTo: [...env.rcptTo], size: body.length, tls: env.tls, receivedAt: now, magic,
    };
    this.received.push(keepBody ? { ...received, body } : received);
    if (this.received.length > MAX_RECEIVED_KEPT) this.received.shift();
    this.onEvent({ type: 'received', ...received });
    this.#counters.messages++;
    this.#counters.recipients += env.rcptTo.length;
    this.#counters.bytes += body.length;
    for (const wake of this.#waiters) wake();
  }

  #capacity(perMinute: number): number {
    return Math.max(1, Math.floor((perMinute * this.profile.rateWindow) / 60_000));
  }

  /**
   * The limit at CONNECT or MAIL: a session let through is counted in the window at once, so
   * sessions in parallel cannot all pass before the first of them is received.
   */
  #admit(ip: string): boolean {
    if (this.profile.ratePerMinute === null) return true;
    if (this.#overRate(ip)) return false;
    this.#countIn(ip, this.clock.now());
    this.#admitted.set(ip, (this.#admitted.get(ip) ?? 0) + 1);
    return true;
  }

  #countIn(ip: string, now: number) {
    const w = this.#ipWindows.get(ip) ?? new Window();
    w.add(now, this.profile.rateWindow);
    this.#ipWindows.set(ip, w);
  }

  #overRate(ip: string): boolean {
    const per = this.profile.ratePerMinute;
    if (per === null) return false;
    const w = this.#ipWindows.get(ip);
    return !!w && w.count(this.clock.now(), this.profile.rateWindow) >= this.#capacity(per);
  }

  #isGreylisted(ip: string, sender: string, rcpt: string, delayMs: number): boolean {
    const key = `${ip}|${sender.toLowerCase()}|${rcpt.toLowerCase()}`;
    const now = this.clock.now();
    const first = this.#greylist.get(key);
    if (first === undefined) { this.#greylist.set(key, now); return true; }
    return now - first < delayMs;
  }

  #openTotal(): number {
    let n = 0;
    for (const v of this.#open.values()) n += v;
    return n;
  }

  #refuse(stage: SimStage, reason: RefusalReason, reply: SimReply, vars: { ip: string; sender?: string; rcpt?: string }): WireReply {
    this.#refusalCounts[reason]++;
    const refusal: SimRefusal = { provider: this.provider, at: this.clock.now(), clientIp: vars.ip, stage, reason, code: reply.code,
      ...(vars.sender !== undefined ? { mailFrom: vars.sender } : {}), ...(vars.rcpt !== undefined ? { rcpt: vars.rcpt } : {}) };
    this.refusals.push(refusal);
    if (this.refusals.length > MAX_REFUSALS_KEPT) this.refusals.shift();
    this.onEvent({ type: 'refused', ...refusal });
    return { code: reply.code, lines: fillReply(reply.text, { ...vars, host: this.profile.hostname }), reason };
  }
}

/** Fill a reply's placeholders and split it into lines. */
export function fillReply(text: string, vars: { ip?: string; sender?: string; rcpt?: string; host?: string }): string[] {
  const id = crypto.randomBytes(8).toString('hex');
  const domain = vars.rcpt?.includes('@') ? vars.rcpt.slice(vars.rcpt.lastIndexOf('@') + 1) : '';
  const values: Record<string, string> = { ip: vars.ip ?? '', sender: vars.sender ?? '', rcpt: vars.rcpt ?? '', domain, host: vars.host ?? '', id };
  return text.replace(/\{(ip|sender|rcpt|domain|host|id)\}/g, (_m, k: string) => values[k]!).split('\n');
}
