// Owns reading the RFC 5322 From: field out of a message's header block: the author domains
// DMARC aligns with, which the user authorisation checks and the signer picks its key by.
import addressparser from 'nodemailer/lib/addressparser';
import { domainOfAddress } from './domain-name.js';

export interface HeaderFrom {
  /** Lower-case A-label domain of each From address, in order; null for an address without a valid domain. */
  domains: (string | null)[];
  /** How many From fields the header block has (RFC 5322 allows exactly one). */
  fields: number;
}

/** The From field(s) of a header block (bytes up to the empty line, or the whole message). */
export function parseHeaderFrom(headerBlock: Buffer | string): HeaderFrom {
  const text = typeof headerBlock === 'string' ? headerBlock : headerBlock.toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const unfolded = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n(?=[ \t])/g, '');
  const values = unfolded.split(/\r?\n/).filter((l) => /^from[ \t]*:/i.test(l)).map((l) => l.slice(l.indexOf(':') + 1));
  const domains = values.flatMap((v) => addressparser(v, { flatten: true }))
    .map((a) => (a.address ? domainOfAddress(a.address) : null));
  return { domains, fields: values.length };
}

/** The single author domain to sign for, or null (no From, several addresses, or no valid domain). */
export function authorDomain(from: HeaderFrom): string | null {
  return from.fields === 1 && from.domains.length === 1 ? from.domains[0] ?? null : null;
}
