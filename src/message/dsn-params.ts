// Owns the SMTP DSN extension's parameters (RFC 3461): RET and ENVID on MAIL, NOTIFY and ORCPT on
// RCPT, as the session parses them, the store keeps them (MessageDsn, one JSON value per message)
// and delivery passes them on. xtext (RFC 3461 §4) is decoded on input and encoded on output, so
// inner stages only ever see plain values; ORCPT's `utf-8` address type (RFC 6533) keeps its
// unitext form decoded to UTF-8 the same way. Pure functions.

/** RET: return the whole message, or only its header, in a failure DSN. */
export type DsnRet = 'FULL' | 'HDRS';
export type DsnNotifyWhen = 'SUCCESS' | 'FAILURE' | 'DELAY';
/** NOTIFY: 'NEVER' alone, or a set of the three conditions (RFC 3461 §4.1). */
export type DsnNotify = 'NEVER' | DsnNotifyWhen[];

/** ORCPT: the address type ('rfc822', 'utf-8', …, lower-case) and the address, decoded. */
export interface DsnOrcpt { type: string; address: string }

/** What one recipient asked for; absent fields: not given. */
export interface RecipientDsn { notify?: DsnNotify; orcpt?: DsnOrcpt }

/** The DSN parameters of one message, stored with it; absent fields: not given. */
export interface MessageDsn {
  ret?: DsnRet;
  envid?: string;
  /** By envelope recipient address (as stored): each recipient's NOTIFY and ORCPT. */
  recipients?: Record<string, RecipientDsn>;
}

/** RFC 3461 §4.4: ENVID at most 100 characters; §4.2: ORCPT at most 500. */
const MAX_ENVID = 100;
const MAX_ORCPT = 500;
const XCHAR = /^[\x21-\x2a\x2c-\x3c\x3e-\x7e]$/;
const ADDR_TYPE = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

/**
 * xtext → text; null when malformed ("+" not followed by two upper-case hex digits, or a bad char).
 * `unitext`: UTF-8 characters may appear as themselves (RFC 6533 utf-8-addr-unitext).
 */
export function decodeXtext(s: string, unitext = false): string | null {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (unitext && c.charCodeAt(0) > 0x7f) {
      const cp = s.codePointAt(i)!;
      bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
      if (cp > 0xffff) i++;
    } else if (c === '+') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (XCHAR.test(c)) {
      bytes.push(c.charCodeAt(0));
    } else {
      return null;
    }
  }
  const text = Buffer.from(bytes).toString('utf8');
  return text.includes('\uFFFD') ? null : text;
}

/** text → xtext: "+", "=", controls, space and non-ASCII octets as +HH. */
export function encodeXtext(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    out += byte > 0x20 && byte < 0x7f && byte !== 0x2b && byte !== 0x3d ? String.fromCharCode(byte) : `+${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** RET=FULL|HDRS (case-insensitive). */
export function parseRet(value: string | null): DsnRet | null {
  const v = value?.toUpperCase();
  return v === 'FULL' || v === 'HDRS' ? v : null;
}

/** ENVID=xtext: decoded, printable ASCII, at most 100 characters. */
export function parseEnvid(value: string | null): string | null {
  if (value === null || value.length > MAX_ENVID) return null;
  const text = decodeXtext(value);
  return text !== null && text !== '' && /^[\x20-\x7e]+$/.test(text) ? text : null;
}

/** NOTIFY=NEVER or a comma list of SUCCESS, FAILURE, DELAY (no repeats, NEVER alone). */
export function parseNotify(value: string | null): DsnNotify | null {
  if (value === null) return null;
  const items = value.toUpperCase().split(',');
  if (items.length === 1 && items[0] === 'NEVER') return 'NEVER';
  const out: DsnNotifyWhen[] = [];
  for (const item of items) {
    if ((item !== 'SUCCESS' && item !== 'FAILURE' && item !== 'DELAY') || out.includes(item)) return null;
    out.push(item);
  }
  return out;
}

/** ORCPT=addr-type;xtext. 'utf-8' (RFC 6533): its \x{HEX} escapes are decoded as well. */
export function parseOrcpt(value: string | null): DsnOrcpt | null {
  if (value === null || value.length > MAX_ORCPT) return null;
  const semi = value.indexOf(';');
  if (semi <= 0) return null;
  const type = value.slice(0, semi).toLowerCase();
  if (!ADDR_TYPE.test(type)) return null;
  let address = decodeXtext(value.slice(semi + 1), type === 'utf-8');
  if (address !== null && type === 'utf-8') address = decodeUnitext(address);
  // Checked once fully decoded: a unitext escape (\x{D}) must not bring back what xtext may not carry.
  if (address === null || address === '' || /[\x00-\x1f\x7f-\x9f]/.test(address)) return null;
  return { type, address };
}

/** RFC 6533 utf-8-addr-unitext: "\x{HEX}" escapes → the characters. */
function decodeUnitext(s: string): string | null {
  let bad = false;
  const out = s.replace(/\\x\{([0-9A-Fa-f]{1,6})\}/g, (_m, hex: string) => {
    const cp = parseInt(hex, 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) { bad = true; return ''; }
    return String.fromCodePoint(cp);
  });
  return bad ? null : out;
}

/** RFC 6533 utf-8-addr-xtext: non-ASCII as \x{HEX}, then xtext. */
function encodeUnitext(s: string): string {
  return [...s].map((c) => (c.codePointAt(0)! > 0x7e || c === '\\' ? `\\x{${c.codePointAt(0)!.toString(16).toUpperCase()}}` : c)).join('');
}

/** The ORCPT value for the next hop's RCPT: "rfc822;" + xtext (utf-8 type: its unitext escapes, then xtext). */
export function formatOrcpt(o: DsnOrcpt): string {
  return `${o.type};${encodeXtext(o.type === 'utf-8' ? encodeUnitext(o.address) : o.address)}`;
}

/** The Original-Recipient value of a DSN (RFC 3464 §2.3.1): "rfc822; address" (utf-8: its unitext form, ASCII). */
export function originalRecipientField(o: DsnOrcpt): string {
  return `${o.type}; ${o.type === 'utf-8' ? encodeUnitext(o.address) : o.address}`;
}

/**
 * Whether a recipient gets a DSN for `when`. Without NOTIFY, what Postlane always did: FAILURE
 * and DELAY (RFC 3461 §4.1 leaves the default to the implementation), never SUCCESS.
 */
export function wantsNotice(notify: DsnNotify | undefined, when: DsnNotifyWhen): boolean {
  if (notify === undefined) return when !== 'SUCCESS';
  return notify !== 'NEVER' && notify.includes(when);
}

/** NOTIFY's wire form. */
export const formatNotify = (n: DsnNotify): string => (n === 'NEVER' ? 'NEVER' : n.join(','));

/** A MessageDsn with only the given recipients' entries (a copy of a split message); undefined when nothing is left. */
export function dsnFor(dsn: MessageDsn | undefined, recipients: readonly string[]): MessageDsn | undefined {
  if (!dsn) return undefined;
  const rcpts = Object.fromEntries(recipients.filter((r) => dsn.recipients?.[r]).map((r) => [r, dsn.recipients![r]!]));
  const out: MessageDsn = { ...(dsn.ret ? { ret: dsn.ret } : {}), ...(dsn.envid ? { envid: dsn.envid } : {}), ...(Object.keys(rcpts).length ? { recipients: rcpts } : {}) };
  return Object.keys(out).length ? out : undefined;
}
