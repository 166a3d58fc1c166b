// Owns the VERP return-path used when domains.bounceDomain is configured: the envelope sender of
// a message signed for a sending domain becomes bounce+<queue id>@<label>.<domain>, so SPF is
// checked against (and aligns with) the From domain, and a bounce names the message it is about.
import { isQueueId } from '../message/ids.js';
import { normalizeDomain } from './domain-name.js';

/** The return-path for message `queueId` sent as sending domain `domain` (normalized). */
export const bounceAddress = (queueId: string, domain: string, label: string) => `bounce+${queueId}@${label.toLowerCase()}.${domain}`;

/**
 * The message and sending domain a bounce address names, or null if `address` is not one.
 * The MX listener accepts such recipients when `domain` is a configured sending domain.
 */
export function parseBounceAddress(address: string, label: string): { queueId: string; domain: string } | null {
  const m = /^bounce\+([0-9A-Za-z]{20})@([^@]+)$/.exec(address);
  if (!m) return null;
  const queueId = m[1]!.toUpperCase();
  const host = normalizeDomain(m[2]!);
  const prefix = `${label.toLowerCase()}.`;
  if (!isQueueId(queueId) || !host?.startsWith(prefix)) return null;
  const domain = host.slice(prefix.length);
  return domain.includes('.') ? { queueId, domain } : null;
}
