// Owns the sender-domain policy for authenticated users: a user may use only its allowed domains
// (and their subdomains), or any domain if the admin said so, in MAIL FROM and in every originator
// header field (From:, Sender:, Resent-From:, Resent-Sender:), so one user cannot send, or re-send,
// as another user's domain. Pure; returns the Reply to give.
import { reply, type Reply } from '../message/reply.js';
import type { UserDomainGrant } from '../store/store.js';
import { isWithinDomain, normalizeDomain } from './domain-name.js';
import type { HeaderFrom } from './header-from.js';

/** The user as the session knows it after AUTH; null: not authenticated (trusted network, MX). */
export type DomainUser = UserDomainGrant & { name: string };

/** `domain` (already normalized) is one the grant covers. */
export function isDomainAllowed(grant: UserDomainGrant, domain: string): boolean {
  return grant.anyDomain || grant.allowedDomains.some((allowed) => isWithinDomain(domain, allowed));
}

/** Echo a domain only when it is a plain host name (it came from the client). */
const shown = (domain: string) => (normalizeDomain(domain) === domain ? `${domain} ` : '');

const refuse = (what: string) => reply(550, '5.7.1', what);

/**
 * The reply refusing the transaction, or null when it may proceed.
 * - mailFromDomain: the MAIL FROM domain; null or '' for the null reverse-path or when not checked.
 * - header: the header block's originators (header-from.ts parseHeaderFrom; a null domain for an
 *   address without a valid one); null when not checked (at MAIL FROM time). No originator address
 *   at all is allowed (there is no author domain to spoof).
 */
export function authorisedDomain(
  user: DomainUser | null, mailFromDomain: string | null, header: Pick<HeaderFrom, 'originators'> | null,
): Reply | null {
  if (user === null || user.anyDomain) return null;
  if (mailFromDomain) {
    const domain = normalizeDomain(mailFromDomain);
    if (domain === null || !isDomainAllowed(user, domain)) {
      return refuse(`Sender address domain ${shown(mailFromDomain.toLowerCase())}is not authorised for this user`);
    }
  }
  for (const { field, domain: d } of header?.originators ?? []) {
    if (d === null) return refuse(`${field}: header address is not valid for this user`);
    const domain = normalizeDomain(d);
    if (domain === null || !isDomainAllowed(user, domain)) {
      return refuse(`${field}: header domain ${shown(d.toLowerCase())}is not authorised for this user`);
    }
  }
  return null;
}
