// Owns the decision to add one-click unsubscribe fields (events/unsubscribe.ts) to a message at
// acceptance, for SMTP (accept.ts) and HTTP (http/submission.ts) alike: broadcast mail (or mail
// that asks for them) with a single recipient, whose sender did not supply its own
// List-Unsubscribe. The fields go into the header before DKIM signing, so the signature covers
// them (Gmail and Yahoo require that of bulk senders). A message with several recipients cannot
// carry one person's link: it is sent without, and the skip is logged.
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

/** The fields to add ('' when none). */
export async function unsubscribeFields(s: UnsubscribeSettings, r: UnsubscribeRequest): Promise<string> {
  if (r.stream !== 'broadcast' && !r.requested) return '';
  if (hasListUnsubscribe(r.header)) return '';
  const recipients = [...new Set(r.recipients.map((x) => x.toLowerCase()))];
  if (recipients.length !== 1) {
    s.logger.warn({ event: 'unsubscribe.skipped', id: r.id, rcpts: recipients.length }, 'broadcast message with several recipients: sent without one-click unsubscribe (send one message per recipient)');
    return '';
  }
  const token = unsubscribeToken(s.secrets, { account: r.account, recipient: r.recipients[0]!, messageId: r.id, scope: 'broadcast' });
  const domain = s.bounceLabel && s.signer ? await s.signer.alignedDomain(r.fromDomain) : null;
  const mailto = domain ? unsubscribeMailto(s.secrets, r.id, s.bounceLabel!, domain) : null;
  return listUnsubscribeFields(unsubscribeUrl(await s.links.of(r.account), token), mailto);
}
