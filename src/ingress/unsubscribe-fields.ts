// Owns the decision to add one-click unsubscribe fields (events/unsubscribe.ts) to a message at
// acceptance, for SMTP (accept.ts) and HTTP (http/submission.ts) alike: broadcast mail (or mail
// that asks for them) whose sender did not supply its own List-Unsubscribe. The fields go into
// the header before DKIM signing, so the signature covers them (Gmail and Yahoo require that of
// bulk senders). The link names one person, so such a message with several recipients is first
// split into one copy per recipient (recipient-split.ts), each with its own fields; fields asked
// for several recipients anyway are refused ('' , logged).
import type { Logger } from 'pino';
import type { LinkBaseOf } from '../accounts/link-base.js';
import type { MessageSigner } from '../domains/message-signer.js';
import type { Secrets } from '../events/secret-ring.js';
import { hasListUnsubscribe, listUnsubscribeFields, unsubscribeMailto, unsubscribeToken, unsubscribeUrl } from '../events/unsubscribe.js';

export interface UnsubscribeSettings {
  secrets: Secrets;
  /** The links' base URL per account: publicUrl, or its tracking domain (accounts/link-base.ts). */
  links: LinkBaseOf;
  /** domains.bounceDomain.label: the mailto: address is unsubscribe+…@<label>.<signing domain>; null: no mailto. */
  bounceLabel: string | null;
  signer?: MessageSigner;
  logger: Logger;
}

export interface UnsubscribeRequest {
  id: string;
  account: string;
  recipients: readonly string[];
  stream: 'transactional' | 'broadcast';
  /** The API asked for the fields on a transactional message. */
  requested?: boolean;
  /** The author domain (From), for the mailto: domain. */
  fromDomain: string | null;
  /** The message's header block as the sender wrote it. */
  header: Buffer | string;
}

/** Whether a message in this stream with this header gets the fields, whoever its recipients. */
export function unsubscribeWanted(s: UnsubscribeSettings | undefined, r: Pick<UnsubscribeRequest, 'stream' | 'requested' | 'header'>): boolean {
  return !!s && (r.stream === 'broadcast' || !!r.requested) && !hasListUnsubscribe(r.header);
}

/** The fields to add to a message (a copy for one recipient); '' when none. */
export async function unsubscribeFields(s: UnsubscribeSettings, r: UnsubscribeRequest): Promise<string> {
  if (!unsubscribeWanted(s, r)) return '';
  const recipients = [...new Set(r.recipients.map((x) => x.toLowerCase()))];
  if (recipients.length !== 1) {
    s.logger.warn({ event: 'unsubscribe.skipped', id: r.id, rcpts: recipients.length }, 'unsubscribe fields asked for several recipients (not split): sent without');
    return '';
  }
  const token = unsubscribeToken(s.secrets, { account: r.account, recipient: r.recipients[0]!, messageId: r.id, scope: 'broadcast' });
  const domain = s.bounceLabel && s.signer ? await s.signer.alignedDomain(r.fromDomain) : null;
  const mailto = domain ? unsubscribeMailto(s.secrets, r.id, s.bounceLabel!, domain) : null;
  return listUnsubscribeFields(unsubscribeUrl(await s.links.of(r.account), token), mailto);
}
