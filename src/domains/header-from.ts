// Owns reading the originator fields (RFC 5322 §3.6.2, §3.6.6) out of a message's header block:
// From: gives the author domains DMARC aligns with, which the signer picks its key by; From:,
// Sender:, Resent-From: and Resent-Sender: together are every address a message claims to come
// from, which the user authorisation checks (Reply-To: names no originator and is not restricted).
import addressparser from 'nodemailer/lib/addressparser';
import { domainOfAddress } from './domain-name.js';

/** The fields that name who wrote or sent (or re-sent) a message, as spelled in replies. */
export const ORIGINATOR_FIELDS = ['From', 'Sender', 'Resent-From', 'Resent-Sender'] as const;
export type OriginatorField = (typeof ORIGINATOR_FIELDS)[number];

/** One address of an originator field. */
export interface Originator {
  field: OriginatorField;
  /** Lower-case A-label domain; null for an address without a valid domain. */
  domain: string | null;
}

export interface HeaderFrom {
  /** Lower-case A-label domain of each From address, in order; null for an address without a valid domain. */
  domains: (string | null)[];
  /** How many From fields the header block has (RFC 5322 allows exactly one). */
  fields: number;
  /** Every address of every originator field (From, Sender, Resent-From, Resent-Sender), in header order. */
  originators: Originator[];
}

const FIELD_BY_NAME = new Map<string, OriginatorField>(ORIGINATOR_FIELDS.map((f) => [f.toLowerCase(), f]));
/** Every originator field name begins with one of these letters (either case): other lines are skipped unparsed. */
const FIRST_LETTERS = new Set(ORIGINATOR_FIELDS.flatMap((f) => [f.charCodeAt(0), f.toLowerCase().charCodeAt(0)]));
/**
 * A field value that is one plain address, bare or in angle brackets after a display name of plain
 * words: addressparser() returns exactly that address for it, so it is not run (it builds a token
 * list per character; ~3 KB per message). Anything else (quotes, comments, groups, several
 * addresses, encoded words, other characters) goes through addressparser() as before.
 */
const SIMPLE_VALUE = /^[ \t]*(?:([A-Za-z0-9._+-]+@[A-Za-z0-9.-]+)|(?:[A-Za-z0-9]+(?:[ \t]+[A-Za-z0-9]+)*[ \t]*)?<([A-Za-z0-9._+-]+@[A-Za-z0-9.-]+)>)[ \t]*$/;

/** The addresses of one originator field's value, as addressparser() (flattened) gives them. */
function addressesOf(value: string): (string | undefined)[] {
  const m = SIMPLE_VALUE.exec(value);
  if (m) return [m[1] ?? m[2]];
  return addressparser(value, { flatten: true }).map((a) => a.address);
}

/** The originator fields of a header block (bytes up to the empty line, or the whole message). */
export function parseHeaderFrom(headerBlock: Buffer | string): HeaderFrom {
  const text = typeof headerBlock === 'string' ? headerBlock : headerBlock.toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const unfolded = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n(?=[ \t])/g, '');
  const originators: Originator[] = [];
  // pushed to, not originators.filter().map(): an array from map() changes its elements kind when the
  // caller is optimised, and authorDomain's optimised code then deoptimised on it ("wrong map")
  const domains: (string | null)[] = [];
  let fields = 0;
  // line by line as split(/\r?\n/) would cut them, without the array of every line: only the lines
  // that may start an originator field become strings (not the empty one after the last line end:
  // charCodeAt past the end deoptimised the optimised code, "out of bounds")
  for (let pos = 0; pos < unfolded.length;) {
    let nl = unfolded.indexOf('\n', pos);
    if (nl < 0) nl = unfolded.length;
    const start = pos;
    pos = nl + 1;
    if (!FIRST_LETTERS.has(unfolded.charCodeAt(start))) continue;
    const line = unfolded.slice(start, nl > start && unfolded.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl);
    const m = /^([!-9;-~]+)[ \t]*:/.exec(line);
    const field = m ? FIELD_BY_NAME.get(m[1]!.toLowerCase()) : undefined;
    if (!field) continue;
    if (field === 'From') fields++;
    for (const address of addressesOf(line.slice(m![0].length))) {
      const domain = address ? domainOfAddress(address) : null;
      originators.push({ field, domain });
      if (field === 'From') domains.push(domain);
    }
  }
  return { domains, fields, originators };
}

/** The single author domain to sign for, or null (no From, several addresses, or no valid domain). */
export function authorDomain(from: Pick<HeaderFrom, 'domains' | 'fields'>): string | null {
  return from.fields === 1 && from.domains.length === 1 ? from.domains[0] ?? null : null;
}
