// Owns the small pure parsers shared by the report readers: header-like field blocks (the bodies
// of message/delivery-status and message/feedback-report parts, and header sections of returned
// messages), typed values ("rfc822; a@b", "dns; host", "smtp; 550 …"), addresses and Message-IDs.
// Everything is bounded and linear: the input comes from strangers.
import type { OriginalHeaders } from './inbound-report.js';

/** One block of fields in order; names lower case, values unfolded and trimmed. */
export type FieldGroup = ReadonlyArray<readonly [name: string, value: string]>;

const MAX_GROUPS = 1000;
const MAX_LINES = 20_000;
const MAX_FIELDS = 500;
const MAX_VALUE = 8192;
const FIELD_NAME = /^[!-9;-~]{1,76}$/;       // printable US-ASCII except ':' (RFC 5322 ftext)

/**
 * Splits `text` into blocks of "Name: value" fields separated by blank lines; continuation lines
 * (starting with space or tab) are unfolded, lines that are neither are skipped.
 */
export function parseFieldGroups(text: string): FieldGroup[] {
  const groups: [string, string][][] = [];
  let current: [string, string][] = [];
  for (const line of text.split(/\r\n|\r|\n/, MAX_LINES)) {
    if (line.trim() === '') {
      if (current.length > 0) groups.push(current);
      current = [];
      if (groups.length >= MAX_GROUPS) break;
    } else if (line[0] === ' ' || line[0] === '\t') {
      const last = current[current.length - 1];
      if (last && last[1].length < MAX_VALUE) last[1] += ` ${line.trim()}`;
    } else {
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon).trim() : '';
      if (FIELD_NAME.test(name) && current.length < MAX_FIELDS) current.push([name.toLowerCase(), line.slice(colon + 1).trim()]);
    }
  }
  if (current.length > 0 && groups.length < MAX_GROUPS) groups.push(current);
  return groups.map((g) => g.map(([n, v]) => [n, v.slice(0, MAX_VALUE).replace(/\s+/g, ' ').trim()] as [string, string]));
}

/** The first value of `name` (lower case) in `group`, null when absent or empty. */
export function fieldOf(group: FieldGroup, name: string): string | null {
  return group.find(([n, v]) => n === name && v !== '')?.[1] ?? null;
}

/** Every non-empty value of `name` in `group`. */
export const fieldsOf = (group: FieldGroup, name: string): string[] => group.filter(([n, v]) => n === name && v !== '').map(([, v]) => v);

/** "rfc822; a@b" → "a@b", "smtp; 550 …" → "550 …"; a value without a type is returned as is. */
export const withoutType = (value: string): string => value.replace(/^[a-z][a-z0-9-]{0,30}\s*;\s*/i, '').trim();

const MAX_ADDRESSES = 100;
/** Characters of an unquoted addr-spec as reports write them (no space, brackets, quotes, separators). */
const isAddressChar = (c: string) => !/[\s<>()",;:@[\]]/.test(c);

/**
 * Every address in a value such as To ("A <a@x>, "B, C" <b@y>" → ["a@x", "b@y"]), at most 100:
 * grown left and right from each '@' (≤ 256 characters each way), so linear in the input.
 */
export function addressesIn(value: string | null): string[] {
  const found: string[] = [];
  if (value === null) return found;
  for (let at = value.indexOf('@'); at !== -1 && found.length < MAX_ADDRESSES; at = value.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && at - start < 256 && isAddressChar(value[start - 1]!)) start--;
    let end = at + 1;
    while (end < value.length && end - at <= 256 && isAddressChar(value[end]!)) end++;
    // A sentence's full stop is not part of the domain; a domain of dots alone is no domain.
    const domainEnd = value.slice(at + 1, end).replace(/\.+$/, '').length;
    if (start < at && domainEnd > 0) found.push(value.slice(start, at + 1 + domainEnd));
  }
  return found;
}

/** The first address in a value ("rfc822; <Bob@example.org> (comment)" → "Bob@example.org"); null if none. */
export function addressOf(value: string | null): string | null {
  return value === null ? null : (addressesIn(withoutType(value))[0] ?? null);
}

/** "dns; mx.example.org. (192.0.2.1, the server…)" → "mx.example.org"; null when empty. */
export function hostOf(value: string | null): string | null {
  if (value === null) return null;
  const host = withoutType(value).split(/[\s(]/, 1)[0]!.replace(/\.$/, '');
  return host === '' ? null : host;
}

/** The first "<id>" in a Message-ID-like value, with its brackets; a bare id gets them added. */
export function messageIdOf(value: string | null): string | null {
  if (value === null) return null;
  const bracketed = /<[^<>\s]{1,998}>/.exec(value);
  if (bracketed) return bracketed[0];
  const bare = /^[^<>\s@]{1,900}@[^<>\s@]{1,900}$/.exec(value.trim());
  return bare ? `<${bare[0]}>` : null;
}

const STATUS = /^([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])/;

/** "5.01.1 (permanent)" → "5.1.1"; null when the value does not start with a status. */
export function statusOf(value: string | null): string | null {
  const m = value === null ? null : STATUS.exec(value.trim());
  return m ? `${m[1]}.${Number(m[2])}.${Number(m[3])}` : null;
}

/** Header sections larger than this are cut (a returned message's headers, not its body). */
const MAX_HEADER_CHARS = 256 * 1024;

/** The fields of a message's header section: everything up to its first blank line. */
export function headerFields(message: string): FieldGroup {
  const head = message.slice(0, MAX_HEADER_CHARS).replace(/^\s+/, '');
  const end = /\r?\n[ \t]*\r?\n/.exec(head);
  return parseFieldGroups(end ? head.slice(0, end.index) : head)[0] ?? [];
}

/** What the returned or reported message's header section says. */
export function originalHeadersOf(message: string): OriginalHeaders {
  const fields = headerFields(message);
  return {
    returnPath: addressOf(fieldOf(fields, 'return-path')),
    to: addressesIn(fieldOf(fields, 'to')),
    messageId: messageIdOf(fieldOf(fields, 'message-id')),
    listUnsubscribe: fieldOf(fields, 'list-unsubscribe'),
  };
}

export const NO_ORIGINAL: Readonly<OriginalHeaders> = Object.freeze({ returnPath: null, to: [], messageId: null, listUnsubscribe: null });
