// Owns the check that `hostname` is a fully qualified domain name. EHLO, Received, Message-IDs,
// DSNs, the default SPF mechanism (a:<hostname>) and cluster node ids all use it, and the
// default — the OS short name ("vm", "ip-10-0-0-5") — is wrong in every one of them.
import net from 'node:net';

/** True when `hostname` looks like a DNS name mail can be sent as (not "vm", "localhost" or an IP). */
export function isFullyQualified(hostname: string): boolean {
  const h = hostname.replace(/\.$/, '').toLowerCase();
  return net.isIP(h) === 0 && h.includes('.') && !h.endsWith('.localhost') && !h.endsWith('.localdomain');
}

export const HOSTNAME_FIX = 'set hostname in the config (or POSTLANE_HOSTNAME) to the relay\'s DNS name, e.g. relay.example.com';

/** null when the hostname is fine; else one line saying what is wrong and what to do. */
export function hostnameProblem(hostname: string): string | null {
  if (isFullyQualified(hostname)) return null;
  return `hostname "${hostname}" is not a fully qualified domain name (EHLO, Message-IDs and the SPF hint a:${hostname} would be wrong): ${HOSTNAME_FIX}`;
}
