// Recognises and reads bounces that carry no machine-readable part — Exim's classic "Mail delivery
// failed" text, qmail's "Hi. This is the qmail-send program", Yahoo's "Failure Notice", old
// Sendmail "Returned mail" — from their sender, subject and wording, and pulls out the failed
// addresses, what was said about each, and the quoted original's Message-ID and Return-Path.
// Pure and line-based (no regex runs over more than one line), bounded in lines and recipients.
import { parseResponse } from './bounce-classifier.js';
import type { OriginalHeaders, TextBounceRecipient, TextBounceReport } from './inbound-report.js';
import { addressesIn, originalHeadersOf, statusOf } from './report-fields.js';

export interface TextBounceInput {
  /** The From field as text ("Mail Delivery System <Mailer-Daemon@host>"). */
  from: string;
  subject: string;
  /** The decoded text/plain body. */
  text: string;
  /** The envelope sender when known ('' = the null sender, as bounces are sent). */
  envelopeFrom?: string | null;
  /** The X-Failed-Recipients field (Exim, Gmail), when present. */
  failedRecipients: string | null;
  /** Headers of an attached original (message/rfc822, text/rfc822-headers), when there is one. */
  original: OriginalHeaders | null;
  /** A Message-ID the report names otherwise (In-Reply-To). */
  namedMessageId: string | null;
}

const MAX_LINES = 5000;
const MAX_RECIPIENTS = 1000;
const MAX_BLOCK_LINES = 30;

const DAEMON_FROM = /\b(?:mailer-daemon|mail-daemon|mailerdaemon|postmaster)@|mail delivery (?:system|subsystem|service)/i;
const BOUNCE_SUBJECT = /^\s*(?:(?:fwd?|re):\s*)?(?:mail delivery failed|returned mail|undeliver(?:ed|able)|non-?deliver(?:y|able)|failure notice|delivery status notification \(failure\)|delivery (?:failure|has failed)|mail system error|message not delivered|unzustellbar)/i;
const BODY_MARKER = /this is the qmail-send program|could not be delivered to one or more of its|i'm afraid i wasn't able to deliver|sorry, we were unable to deliver your message|following addresses had permanent fatal errors|this is the mail system at host|delivery to the following recipients? (?:failed|has failed)|your message (?:could not|couldn't|wasn't|was not) (?:be )?delivered/i;
/** The line after which the original message is quoted. */
const COPY_MARKER = /^\s*-{2,}\s*(?:this is a copy of the message|below this line is a copy of the message|(?:original|unsent|returned) message (?:follows|below)|message headers? follows?|a copy of the original message|original message headers)/i;
/** A line that is only an address, maybe in angle brackets, maybe followed by ':'. */
const ADDRESS_LINE = /^\s*<?([^\s<>@()",;:]{1,64}@(?!\.*>?:?\s*$)[^\s<>@()",;:]{1,255})>?:?\s*$/; // a domain of dots alone is none
const REPLY_LINE = /^\s*(?:<<<\s*)?([245]\d\d[ :-].*)$/;

/** From a mail daemon (or the null sender), with a bounce's subject or wording. */
export function isTextBounce(input: Pick<TextBounceInput, 'from' | 'subject' | 'text' | 'envelopeFrom'>): boolean {
  const fromDaemon = input.envelopeFrom === '' || DAEMON_FROM.test(input.from);
  if (!fromDaemon) return false;
  return BOUNCE_SUBJECT.test(input.subject) || input.text.slice(0, 4096).split(/\r?\n/).some((l) => BODY_MARKER.test(l));
}

/** What was said about one address: the quoted reply, else the explanation around it. */
function diagnosticOf(block: readonly string[]): string | null {
  for (const line of block) {
    const said = /remote host said:\s*(.+)$/i.exec(line) ?? /^\(reason:\s*(.+?)\)?$/i.exec(line);
    if (said) return said[1]!.trim();
  }
  const replies = block.filter((l) => REPLY_LINE.test(l));
  if (replies.length > 0) return replies.join('\n');
  const text = block.join(' ').trim();
  return text === '' ? null : text;
}

function statusIn(diagnostic: string | null): string | null {
  if (diagnostic === null) return null;
  return parseResponse(diagnostic).enhanced ?? statusOf(/\(#([245]\.\d{1,3}\.\d{1,3})\)/.exec(diagnostic)?.[1] ?? null);
}

/** Address lines, each with the lines below it up to a blank line or the next address. */
function recipientBlocks(lines: readonly string[]): TextBounceRecipient[] {
  const found = new Map<string, TextBounceRecipient>();
  const transcript = transcriptReplies(lines);
  for (let i = 0; i < lines.length && found.size < MAX_RECIPIENTS; i++) {
    const address = ADDRESS_LINE.exec(lines[i]!)?.[1];
    if (!address) continue;
    const block: string[] = [];
    for (let j = i + 1; j < lines.length && block.length < MAX_BLOCK_LINES; j++) {
      const line = lines[j]!.trim();
      if (line === '' || ADDRESS_LINE.test(line)) break;
      block.push(line);
    }
    const diagnostic = diagnosticOf(block) ?? transcript.get(address.toLowerCase()) ?? null;
    if (!found.has(address.toLowerCase())) found.set(address.toLowerCase(), { address, diagnostic, status: statusIn(diagnostic) });
  }
  return [...found.values()];
}

/**
 * Sendmail names the address alone and the reply in its session transcript ("<<< 550 5.1.1
 * <a@b>... User unknown"): the first reply line naming each address, by lower-case address.
 */
function transcriptReplies(lines: readonly string[]): Map<string, string> {
  const replies = new Map<string, string>();
  for (const line of lines) {
    const m = REPLY_LINE.exec(line);
    if (!m) continue;
    for (const address of addressesIn(line)) {
      if (!replies.has(address.toLowerCase())) replies.set(address.toLowerCase(), m[1]!.trim());
    }
  }
  return replies;
}

/** The bounce's recipients and original, or null when `input` does not look like a bounce. */
export function readTextBounce(input: TextBounceInput): TextBounceReport | null {
  if (!isTextBounce(input)) return null;
  const lines = input.text.split(/\r\n|\r|\n/, MAX_LINES);
  const marker = lines.findIndex((l) => COPY_MARKER.test(l));
  const human = marker < 0 ? lines : lines.slice(0, marker);
  let recipients = recipientBlocks(human);
  if (recipients.length === 0) {
    recipients = addressesIn(input.failedRecipients).map((address) => ({ address, diagnostic: null, status: null }));
  }
  const original = input.original ?? (marker < 0 ? null : originalHeadersOf(lines.slice(marker + 1).join('\n')));
  return {
    kind: 'bounce-text',
    recipients,
    originalMessageId: original?.messageId ?? input.namedMessageId,
    originalReturnPath: original?.returnPath ?? null,
  };
}
