// Owns turning reports that reach the MX listener into events: a bounce that arrives after the
// fact (an RFC 3464 DSN or a text bounce) becomes a 'bounced' event of the message and recipient
// it is about, exactly like a synchronous 5xx (so a hard one suppresses the address, through the
// store's event effects); a feedback report (ARF) becomes a 'complained' event (which suppresses).
// Everything else, and every report too, stays stored as inbound mail by delivery/local.ts.
//
// Finding the message: a bounce must come through the VERP return path, whose MAC is checked
// (domains/bounce-address.ts): a bounce to a guessed or altered address is logged and ignored,
// never turned into a suppression. A complaint may also be matched by the Return-Path or
// Message-ID of the reported message (Postlane's Message-IDs carry the queue id, 64 random bits).
// The recipient: the VERP index when the return path names one, else the report's recipient
// matched against the message's, else the message's only recipient.
import type { Logger } from './log.js';
import type { Secrets } from './secret-ring.js';
import { classifyBounce } from './bounce-classifier.js';
import type { ArfReport, DsnReport, InboundReport, TextBounceReport } from './inbound-report.js';
import { parseReport } from './report-parser.js';
import { parseUnsubscribeMailto, recordUnsubscribe, type UnsubscribeStore } from './unsubscribe.js';
import { parseBounceAddress } from '../domains/bounce-address.js';
import { isQueueId } from '../message/ids.js';
import { messageData } from '../store/event-mapping.js';
import type { MessageEvent, MessageMeta } from '../store/platform-store.js';
import type { MessageView, QueueStore } from '../store/store.js';
import type { Clock } from '../clock.js';

export interface InboundReportsDeps {
  store: Pick<QueueStore, 'getMessage' | 'appendEvents' | 'listEvents'> & UnsubscribeStore;
  logger: Logger;
  clock: Clock;
  hostname: string;
  /** domains.bounceDomain.label; null: no VERP return paths, so bounces cannot be matched. */
  bounceLabel: string | null;
  bounceSecrets: Secrets;
  /** Verify the mailto: unsubscribe addresses; absent: those are stored as plain inbound mail. */
  linkSecrets?: Secrets;
}

/** Feedback types that mean "this recipient does not want this mail" (not-spam reports do not). */
const COMPLAINTS = new Set(['abuse', 'fraud', 'virus', 'other']);

interface Found { message: MessageView; rcptIndex: number | null }
type Outcome = { event: Omit<MessageEvent, 'id' | 'seq'> } | { skip: string };

export class InboundReports {
  constructor(private readonly d: InboundReportsDeps) {}

  /** Reads one inbound message (its envelope recipients and bytes); appends the events it reports. */
  async process(id: string, envelope: { mailFrom: string; recipients: string[] }, raw: Buffer): Promise<void> {
    if (await this.#unsubscribe(id, envelope.recipients)) return;
    const report = await parseReport(raw, { envelopeFrom: envelope.mailFrom });
    if (report.kind === 'other') return;
    const verp = this.#verp(envelope.recipients);
    if (verp === 'forged') return this.#log('warn', id, report, 'the return-path token is not authentic; ignored');
    const found = await this.#find(report, verp);
    if (!found) return this.#log('info', id, report, 'no message of ours matches; ignored');
    const outcomes = report.kind === 'arf' ? [this.#complaint(report, found)] : this.#bounces(report, found);
    // One event per recipient a report: a DSN may list 1,000 blocks, and with the VERP index (or a
    // message of one recipient) every block names the same recipient. A reason to skip is logged once.
    const events: Omit<MessageEvent, 'id' | 'seq'>[] = [];
    const named = new Set<string>();
    const skipped = new Map<string, number>();
    for (const o of outcomes) {
      if ('skip' in o) { skipped.set(o.skip, (skipped.get(o.skip) ?? 0) + 1); continue; }
      const rcpt = o.event.recipient!.toLowerCase();
      if (named.has(rcpt)) continue;
      named.add(rcpt);
      if (!(await this.#isDuplicate(o.event))) events.push(o.event);
    }
    for (const [reason, count] of skipped) this.#log('info', id, report, reason, found.message.id, count);
    if (events.length > 0) await this.d.store.appendEvents(events);
    for (const e of events) {
      this.d.logger.info({ event: 'inbound.report', id, kind: report.kind, type: e.type, message: e.messageId, rcpt: e.recipient, account: e.account,
        bounceType: e.data.bounceType, feedbackType: e.data.feedbackType }, `report: ${e.type}`);
    }
  }

  /**
   * A mail to a List-Unsubscribe mailto: address (RFC 2369) unsubscribes the single recipient of
   * the message it names. True when the envelope was such an address (authentic or not).
   */
  async #unsubscribe(id: string, recipients: string[]): Promise<boolean> {
    const label = this.d.bounceLabel;
    const secrets = this.d.linkSecrets;
    if (!label || !secrets) return false;
    const parsed = recipients.map((r) => parseUnsubscribeMailto(r, label, secrets)).find((p) => p !== null);
    if (!parsed) return false;
    const reject = (reason: string) => { this.d.logger.warn({ event: 'unsubscribe.mailto_ignored', id, reason }, `unsubscribe mail ignored: ${reason}`); return true; };
    if (!parsed.authentic) return reject('the address token is not authentic');
    const message = await this.d.store.getMessage(parsed.queueId);
    const rcpts = [...new Set(message?.recipients.map((r) => r.address.toLowerCase()) ?? [])];
    if (!message || rcpts.length !== 1) return reject('no message of ours with a single recipient matches');
    const outcome = await recordUnsubscribe(this.d.store, this.d.clock.now(),
      { account: message.meta.account, recipient: message.recipients[0]!.address, messageId: message.id, scope: 'broadcast' }, { method: 'mailto' });
    this.d.logger.info({ event: 'unsubscribe.recorded', id, account: message.meta.account, message: message.id, outcome, method: 'mailto' }, 'unsubscribed');
    return true;
  }

  /** The VERP return path among the envelope recipients: its message and index, 'forged', or null when none. */
  #verp(recipients: string[]): { queueId: string; rcptIndex: number | null } | 'forged' | null {
    if (!this.d.bounceLabel) return null;
    for (const r of recipients) {
      const p = parseBounceAddress(r, this.d.bounceLabel, this.d.bounceSecrets.all());
      if (p) return p.authentic ? { queueId: p.queueId, rcptIndex: p.rcptIndex } : 'forged';
    }
    return null;
  }

  async #find(report: Exclude<InboundReport, { kind: 'other' }>, verp: { queueId: string; rcptIndex: number | null } | null): Promise<Found | null> {
    let ref = verp;
    if (!ref && report.kind === 'arf') ref = this.#fromReturnPath(report.originalMailFrom ?? report.originalHeaders.returnPath) ?? this.#fromMessageId(report.originalMessageId ?? report.originalHeaders.messageId);
    if (!ref) return null;
    const message = await this.d.store.getMessage(ref.queueId);
    if (!message || message.route !== 'relay' || message.isBounce) return null;
    return { message, rcptIndex: ref.rcptIndex };
  }

  #fromReturnPath(address: string | null): { queueId: string; rcptIndex: number | null } | null {
    if (!address || !this.d.bounceLabel) return null;
    const p = parseBounceAddress(address, this.d.bounceLabel, this.d.bounceSecrets.all());
    return p?.authentic ? { queueId: p.queueId, rcptIndex: p.rcptIndex } : null;
  }

  /** `<QUEUEID@hostname>`: the Message-ID Postlane gives mail that has none (SMTP) and every API message. */
  #fromMessageId(messageId: string | null): { queueId: string; rcptIndex: null } | null {
    const m = messageId ? /^<([0-9A-Z]{20})@([^>]+)>$/i.exec(messageId.trim()) : null;
    if (!m || m[2]!.toLowerCase() !== this.d.hostname.toLowerCase() || !isQueueId(m[1]!.toUpperCase())) return null;
    return { queueId: m[1]!.toUpperCase(), rcptIndex: null };
  }

  #bounces(report: DsnReport | TextBounceReport, found: Found): Outcome[] {
    const entries = report.kind === 'dsn'
      ? report.recipients.map((r) => ({ addresses: [r.finalRecipient, r.originalRecipient], action: r.action, status: r.status, diagnostic: r.diagnosticCode, host: r.remoteMta }))
      : report.recipients.map((r) => ({ addresses: [r.address], action: 'failed' as const, status: r.status, diagnostic: r.diagnostic, host: null }));
    if (entries.length === 0) return [{ skip: 'the report names no recipient' }];
    return entries.map((e): Outcome => {
      if (e.action !== 'failed') return { skip: `action ${e.action ?? 'missing'}: not a failure` };
      const recipient = recipientOf(found, e.addresses);
      if (!recipient) return { skip: 'the reported recipient is not one of the message' };
      const response = e.diagnostic ?? (e.status ? `${e.status.startsWith('5') ? 550 : 450} ${e.status}` : 'bounced (no diagnostic)');
      const c = classifyBounce(response, e.status ?? undefined);
      if (c.bounceType !== 'hard' && c.bounceType !== 'block' && (e.status ?? '').startsWith('4')) return { skip: 'a temporary failure' };
      return this.#event(found, 'bounced', recipient, {
        bounceType: c.bounceType, bounceCategory: c.category, code: c.code, enhanced: c.enhanced ?? e.status, response, host: e.host,
        async: true, reportingMta: report.kind === 'dsn' ? report.reportingMta : null,
      });
    });
  }

  #complaint(report: ArfReport, found: Found): Outcome {
    if (!COMPLAINTS.has(report.feedbackType)) return { skip: `feedback type ${report.feedbackType}: not a complaint` };
    // Original-Rcpt-To names the complainant; the reported message's To lists every recipient, so it
    // is read only when the report redacts Original-Rcpt-To (and then must name just one of them).
    const named = report.originalRcptTo.length > 0 ? report.originalRcptTo : report.originalHeaders.to;
    const recipient = recipientOf(found, named);
    if (!recipient) return { skip: 'the complaint names no recipient of the message (redacted)' };
    return this.#event(found, 'complained', recipient, {
      feedbackType: report.feedbackType, userAgent: report.userAgent, sourceIp: report.sourceIp, arrivalDate: report.arrivalDate, reportedDomain: report.reportedDomain,
    });
  }

  #event(found: Found, type: 'bounced' | 'complained', recipient: string, data: Record<string, unknown>): Outcome {
    const meta: MessageMeta = found.message.meta;
    return { event: { at: this.d.clock.now(), account: meta.account, type, messageId: found.message.id, recipient, data: { ...messageData(meta), ...data } } };
  }

  /** The same report delivered twice (a retried DSN) must not count twice. */
  async #isDuplicate(e: Omit<MessageEvent, 'id' | 'seq'>): Promise<boolean> {
    const seen = await this.d.store.listEvents({ account: e.account, messageId: e.messageId!, recipient: e.recipient!, types: [e.type], limit: 1000 });
    return seen.some((x) => e.type === 'complained' || x.data.async === true);
  }

  #log(level: 'info' | 'warn', id: string, report: InboundReport, reason: string, message?: string, count = 1): void {
    this.d.logger[level]({ event: 'inbound.report_ignored', id, kind: report.kind, message, reason, ...(count > 1 ? { count } : {}) }, `report ignored: ${reason}`);
  }
}

/**
 * The message's recipient a report is about: by the VERP index, by address (when the addresses
 * name exactly one of its recipients: several is ambiguous, so none), or the only one.
 */
function recipientOf(found: Found, addresses: (string | null)[]): string | null {
  const rcpts = [...found.message.recipients].sort((a, b) => a.rcptId - b.rcptId).map((r) => r.address);
  if (found.rcptIndex !== null) return rcpts[found.rcptIndex] ?? null;
  const wanted = new Set(addresses.filter((a): a is string => !!a).map((a) => a.toLowerCase()));
  const hits = rcpts.filter((r) => wanted.has(r.toLowerCase()));
  if (hits.length > 0) return new Set(hits.map((r) => r.toLowerCase())).size === 1 ? hits[0]! : null;
  return new Set(rcpts.map((r) => r.toLowerCase())).size === 1 ? rcpts[0]! : null;
}
