// Owns the decision to split a message into one stored message (a "copy") per recipient at
// acceptance, for SMTP (accept.ts) and HTTP (http/submission.ts) alike, and the rules every copy
// follows. A pixel, a tracked link and a one-click unsubscribe link each name one person, so a
// message that gets any of them (tracking-plan.ts, unsubscribe-fields.ts) and has several distinct
// recipients is split: each copy has its own queue id, Received field, return-path, tokens and
// DKIM signature, and the copies are committed together (QueueStore.putMany: all or none), so the
// client never gets its 250/202 for part of them. Without per-recipient content a message to
// several recipients stays one message, unless domains.bounceDomain.perRecipient asks for a
// return path per recipient: a late bounce or complaint names its copy, so a recipient of a shared
// message cannot forge one (with the message's VERP address) that suppresses a co-recipient.
//
// Rules: recipients are grouped case-insensitively (one copy per distinct address, in envelope
// order); no copy carries a Bcc field (each Bcc recipient gets a copy of its own, the others never
// learn of it); the copies' bytes together count against limits.maxMessageSize (552 5.3.4 beyond),
// so one transaction never stores more than one message of the largest size allowed (recipients
// are already capped by limits.maxRecipients), and the memory held until the commit stays bounded.
import { reply, type Reply } from '../message/reply.js';
import { takeHeaderField } from './stream-field.js';

/** Recipients grouped case-insensitively by address, in envelope order: one copy per group. */
export function recipientGroups(recipients: readonly string[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const r of recipients) {
    const key = r.toLowerCase();
    const g = groups.get(key);
    if (g) g.push(r); else groups.set(key, [r]);
  }
  return [...groups.values()];
}

/** Whether a message is split: it gets per-recipient content and has several distinct recipients. */
export function isSplit(personal: boolean, recipients: readonly string[]): boolean {
  return personal && new Set(recipients.map((r) => r.toLowerCase())).size > 1;
}

/**
 * domains.bounceDomain.perRecipient: split a message to several distinct recipients when it gets a
 * VERP return path (a sender that is not null, mail `alignedDomain` signs aligned, a bounce secret).
 */
export function splitsForReturnPath(mailFrom: string, recipients: readonly string[], alignedDomain: string | null | undefined): boolean {
  return mailFrom !== '' && !!alignedDomain && isSplit(true, recipients);
}

/** The header block without its Bcc fields (and their folded lines). */
export const withoutBcc = (header: Buffer): Buffer => takeHeaderField(header, 'bcc').header;

/** The whole message without the Bcc fields of its header. */
export function messageWithoutBcc(message: Buffer): Buffer {
  const end = message.indexOf('\r\n\r\n');
  if (end < 0) return withoutBcc(message);
  const header = withoutBcc(message.subarray(0, end + 2));
  return header.length === end + 2 ? message : Buffer.concat([header, message.subarray(end + 2)]);
}

/** The refusal when the copies (their estimate, or their actual total) pass the size limit; null: within it. */
export function splitSizeRefusal(totalBytes: number, maxMessageBytes: number | undefined): Reply | null {
  if (maxMessageBytes === undefined || totalBytes <= maxMessageBytes) return null;
  return reply(552, '5.3.4', 'Message too big to send one copy per recipient; send fewer recipients per message');
}

/** The SMTP reply text: the first queue id, and how many more copies were queued with it. */
export function queuedText(firstId: string, copies: number): string {
  return copies > 1 ? `Ok: queued as ${firstId} (+${copies - 1} more, one per recipient)` : `Ok: queued as ${firstId}`;
}
