// Owns the syntax of the names this module deals in: sending domains (stored as lower-case
// A-labels, so a U-label and its punycode are one domain) and DKIM selectors. Pure functions.
import { domainToASCII } from 'node:url';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

// Letters, digits, hyphens and dots, ending in a label that starts with a letter, with no A-label (`xn--`):
// what domainToASCII would give back lower-cased and nothing else (no IDNA mapping, no punycode to check,
// and a last label that cannot be read as an IPv4 number such as `0x10`), so it is not called. Most
// From and envelope domains are of this kind; the call was 0.4-0.7 % of the main thread on workload (i).
const PLAIN_ASCII = /^(?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*$/i;
const A_LABEL = /(?:^|\.)xn--/i;

/** The lower-case A-label form of a host name with at least two labels, or null if it is not one. */
export function normalizeDomain(input: string): string | null {
  const trimmed = input.trim().replace(/\.$/, '');
  if (trimmed === '' || /[\s@[\]]/.test(trimmed)) return null;
  const ascii = PLAIN_ASCII.test(trimmed) && !A_LABEL.test(trimmed) ? trimmed.toLowerCase() : domainToASCII(trimmed).toLowerCase();
  if (ascii === '' || ascii.length > 253) return null;
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^\d+$/.test(labels.at(-1)!)) return null;
  return ascii;
}

/** `domain` is `parent` or one of its subdomains (both already normalized). */
export const isWithinDomain = (domain: string, parent: string) => domain === parent || domain.endsWith(`.${parent}`);

/**
 * The domain itself, then each parent down to two labels: a.b.example.com → [a.b.example.com, b.example.com, example.com].
 * Each suffix that still holds a dot, pushed to one array (map() then filter() gave arrays of another
 * elements kind once the caller was optimised, and message-signer's optimised loop deoptimised on them).
 */
export function domainAndParents(domain: string): string[] {
  const out: string[] = [];
  for (let from = 0; domain.indexOf('.', from) >= 0; from = domain.indexOf('.', from) + 1) out.push(from === 0 ? domain : domain.slice(from));
  return out;
}

/** A DKIM selector (RFC 6376 §3.1): dot-separated labels of letters, digits and inner hyphens. */
export const isValidSelector = (s: string) => s.length <= 63 && s.split('.').every((l) => LABEL.test(l.toLowerCase()));

/** The domain of an address ("user@Example.COM" → "example.com"), or null if it has none that is valid. */
export function domainOfAddress(address: string): string | null {
  const at = address.lastIndexOf('@');
  return at < 0 ? null : normalizeDomain(address.slice(at + 1));
}
