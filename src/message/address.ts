// Owns the syntax of SMTP envelope addresses (RFC 5321 §4.1.2, UTF-8 per RFC 6531) and of the
// MAIL FROM / RCPT TO arguments around them: the <path>, its length limits and the ESMTP
// parameters. Pure functions; the session maps the error kinds to replies. Inner stages only ever
// see the `Address` strings produced here (domain lower-cased, source route dropped).
import net from 'node:net';
import { domainToASCII } from 'node:url';
import { parseEnvid, parseNotify, parseOrcpt, parseRet, type DsnNotify, type DsnOrcpt, type DsnRet } from './dsn-params.js';

export type Address = string & { readonly __brand: 'Address' };

export interface Mailbox {
  /** Local part as written (a quoted local part keeps its quotes). */
  local: string;
  /** Lower-case domain, or an address literal like "[192.0.2.1]"; '' only for bare <postmaster>. */
  domain: string;
  address: Address;
  isQuoted: boolean;
  isAddressLiteral: boolean;
  /** The path carried an RFC 5321 source route (<@a,@b:user@c>); it was dropped. */
  hasSourceRoute: boolean;
  /** Contains non-ASCII characters: allowed only with SMTPUTF8. */
  isUtf8: boolean;
}

export type ArgsError =
  | 'syntax'          // the keyword or the <path> is malformed
  | 'path-too-long'   // over 256 octets (or local part over 64, domain over 255)
  | 'param-syntax'    // a parameter is malformed, duplicated or has a bad value
  | 'param-unknown';  // a parameter (or value) this server does not implement

export type ArgsResult<T> = { ok: true; value: T } | { ok: false; error: ArgsError };

/** ret/envid: the DSN parameters (RFC 3461), envid xtext-decoded; null when not given. `requireTls`: MAIL FROM … REQUIRETLS (RFC 8689). */
export interface MailParams { size: number | null; body: '7BIT' | '8BITMIME' | null; smtputf8: boolean; ret: DsnRet | null; envid: string | null; requireTls: boolean }
export interface MailArgs { sender: Mailbox | null; params: MailParams }
/** notify/orcpt: the DSN parameters (RFC 3461), orcpt xtext-decoded; null when not given. */
export interface RcptArgs { recipient: Mailbox; notify: DsnNotify | null; orcpt: DsnOrcpt | null }

export const MAX_PATH_OCTETS = 256;
const MAX_LOCAL_OCTETS = 64;
const MAX_DOMAIN_OCTETS = 255;

/** RFC 5321 Dot-string: atoms of atext (and UTF-8, RFC 6531) joined by single dots; one test of the whole local part. */
const DOT_STRING = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10ffff}]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10ffff}]+)*$/u;
const LDH_LABEL = /^[A-Za-z0-9\u0080-\u{10ffff}]([A-Za-z0-9\-\u0080-\u{10ffff}]*[A-Za-z0-9\u0080-\u{10ffff}])?$/u;
const NON_ASCII = /[^\x00-\x7f]/;
/** An all-ASCII domain name: LDH labels of 1 to 63 characters (isDomainName's rule, in one test). */
const ASCII_DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const LONE_SURROGATE = /\p{Surrogate}/u;
const KEYWORD = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const VALUE = /^[\x21-\x3c\x3e-\x7e]+$/;
/** ORCPT=utf-8;… may carry UTF-8 itself (RFC 6533 utf-8-addr-unitext); dsn-params.ts judges it. */
const UNITEXT_VALUE = /^[\x21-\x3c\x3e-\x7e\u0080-\u{10ffff}]+$/u;
const octets = (s: string) => Buffer.byteLength(s, 'utf8');

/** parseParams of '': shared (its callers only read it). */
const NO_PARAMS: ArgsResult<Map<string, string | null>> = { ok: true, value: new Map() };

const fail = (error: ArgsError): { ok: false; error: ArgsError } => ({ ok: false, error });

/**
 * The usual envelope argument, "TO:<local@domain>" or "FROM:<local@domain>" with nothing else: all
 * ASCII, no space, no parameter, a Dot-string local part and an LDH domain. Tested by one sticky
 * expression from the '<' on (no match array, no substring); what it does not match, or what is over
 * the length limits, goes to the general parser (which also gives the errors).
 */
const PLAIN_PATH = /<[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*>$/y;
const UPPER = /[A-Z]/;
const PLAIN_FLAGS = { isQuoted: false, isAddressLiteral: false, hasSourceRoute: false } as const;

/** The mailbox of `arg` when from `start` (its '<') on it is a plain path ending the argument; null: use the general parser. */
function plainPath(arg: string, start: number): Mailbox | null {
  const len = arg.length;
  if (len - start > MAX_PATH_OCTETS) return null;
  PLAIN_PATH.lastIndex = start;
  if (!PLAIN_PATH.test(arg)) return null;
  const at = arg.indexOf('@', start);
  if (at - start - 1 > MAX_LOCAL_OCTETS) return null;
  const local = arg.slice(start + 1, at);
  const domain = arg.slice(at + 1, len - 1);
  // a domain already in lower case (the usual): the address is the path's own text, not a new string
  if (!UPPER.test(domain)) return mailbox(local, domain, PLAIN_FLAGS, true, arg.slice(start + 1, len - 1) as Address);
  return mailbox(local, domain.toLowerCase(), PLAIN_FLAGS, true);
}

/** "FROM:<a@b.c>" or "TO:<a@b.c>": the keyword in any case (ASCII letters only, as the general parser's /i). */
const isFromColon = (a: string) => a.length > 5 && (a.charCodeAt(0) | 0x20) === 0x66 && (a.charCodeAt(1) | 0x20) === 0x72
  && (a.charCodeAt(2) | 0x20) === 0x6f && (a.charCodeAt(3) | 0x20) === 0x6d && a.charCodeAt(4) === 0x3a;
const isToColon = (a: string) => a.length > 3 && (a.charCodeAt(0) | 0x20) === 0x74 && (a.charCodeAt(1) | 0x20) === 0x6f && a.charCodeAt(2) === 0x3a;

/** "FROM:<a@b.c> SIZE=10 BODY=8BITMIME" (the text after MAIL). <> is the null sender. */
export function parseMailArgs(arg: string): ArgsResult<MailArgs> {
  const plain = isFromColon(arg) ? plainPath(arg, 5) : null;
  if (plain) return { ok: true, value: { sender: plain, params: { size: null, body: null, smtputf8: false, ret: null, envid: null, requireTls: false } } };
  return parseMailArgsGeneral(arg);
}

/** parseMailArgs without the plain-path shortcut (exported for the test that compares the two). */
export function parseMailArgsGeneral(arg: string): ArgsResult<MailArgs> {
  const m = /^FROM:[ ]*/i.exec(arg);
  if (!m) return fail('syntax');
  const rest = arg.slice(m[0].length);
  if (rest.startsWith('<>')) {
    const params = parseMailParams(rest.slice(2));
    return params.ok ? { ok: true, value: { sender: null, params: params.value } } : params;
  }
  const path = parsePath(rest);
  if (!path.ok) return path;
  const params = parseMailParams(rest.slice(path.value.end));
  return params.ok ? { ok: true, value: { sender: path.value.mailbox, params: params.value } } : params;
}

/** "TO:<a@b.c>" (the text after RCPT); "<postmaster>" alone is allowed (RFC 5321 §4.1.1.3). */
export function parseRcptArgs(arg: string): ArgsResult<RcptArgs> {
  const plain = isToColon(arg) ? plainPath(arg, 3) : null;
  if (plain) return { ok: true, value: { recipient: plain, notify: null, orcpt: null } };
  return parseRcptArgsGeneral(arg);
}

/** parseRcptArgs without the plain-path shortcut (exported for the test that compares the two). */
export function parseRcptArgsGeneral(arg: string): ArgsResult<RcptArgs> {
  const m = /^TO:[ ]*/i.exec(arg);
  if (!m) return fail('syntax');
  const rest = arg.slice(m[0].length);
  const bare = /^<postmaster>/i.exec(rest);
  const path = bare
    ? { ok: true as const, value: { mailbox: mailbox('postmaster', '', { isQuoted: false, isAddressLiteral: false, hasSourceRoute: false }), end: bare[0].length } }
    : parsePath(rest);
  if (!path.ok) return path;
  const params = parseParams(rest.slice(path.value.end));
  if (!params.ok) return params;
  let notify: DsnNotify | null = null;
  let orcpt: DsnOrcpt | null = null;
  for (const [key, value] of params.value) {
    if (key === 'NOTIFY') {
      notify = parseNotify(value);
      if (!notify) return fail('param-syntax');
    } else if (key === 'ORCPT') {
      orcpt = parseOrcpt(value);
      if (!orcpt) return fail('param-syntax');
    } else {
      return fail('param-unknown');
    }
  }
  return { ok: true, value: { recipient: path.value.mailbox, notify, orcpt } };
}

/** A bare mailbox "local@domain" (no angle brackets), e.g. for configuration or the HTTP API. */
export function parseMailbox(text: string): Mailbox | null {
  const r = parsePath(`<${text}>`);
  return r.ok && r.value.end === text.length + 2 && !r.value.mailbox.hasSourceRoute ? r.value.mailbox : null;
}

/**
 * Why delivering to this mailbox could relay mail elsewhere, or null. Checked for every recipient
 * of a client that is not authenticated: percent hack, bang path, source route, quoted local
 * parts hiding @ % !, and IP literals.
 */
export function relayTrickIn(m: Mailbox): 'source-route' | 'percent-hack' | 'bang-path' | 'quoted-routing' | 'ip-literal' | null {
  if (m.hasSourceRoute) return 'source-route';
  if (m.isAddressLiteral) return 'ip-literal';
  if (m.isQuoted && /[@%!]/.test(m.local)) return 'quoted-routing';
  if (m.local.includes('%')) return 'percent-hack';
  if (m.local.includes('!')) return 'bang-path';
  return null;
}

/** `ascii`: the text it came from is known to be ASCII (then so is the address); `written`: the address as the client wrote it, when that is its form. */
function mailbox(local: string, domain: string, flags: Pick<Mailbox, 'isQuoted' | 'isAddressLiteral' | 'hasSourceRoute'>, ascii = false, written?: Address): Mailbox {
  const address = written ?? (domain ? `${local}@${domain}` : local) as Address;
  return { local, domain, address, isQuoted: flags.isQuoted, isAddressLiteral: flags.isAddressLiteral, hasSourceRoute: flags.hasSourceRoute,
    isUtf8: !ascii && NON_ASCII.test(address) };
}

/** Parses "<[@route,...:]local@domain>" at the start of `s`; `end` is the index after '>'. */
function parsePath(s: string): ArgsResult<{ mailbox: Mailbox; end: number }> {
  if (s[0] !== '<') return fail('syntax');
  // All ASCII (the usual envelope): octets are characters, and there is no surrogate to find.
  const ascii = !NON_ASCII.test(s);
  const close = findPathEnd(s);
  if (close < 0) return fail('syntax');
  if ((ascii ? close + 1 : octets(s.slice(0, close + 1))) > MAX_PATH_OCTETS) return fail('path-too-long');
  let inner = s.slice(1, close);
  // A lone UTF-16 surrogate (possible in a JSON string, not in UTF-8) would be stored as U+FFFD.
  if (!ascii && LONE_SURROGATE.test(inner)) return fail('syntax');
  let hasSourceRoute = false;
  if (inner.startsWith('@')) {
    const colon = inner.indexOf(':');
    if (colon < 0) return fail('syntax');
    const hops = inner.slice(0, colon).split(',');
    if (!hops.every((h) => h.startsWith('@') && isDomainName(h.slice(1)))) return fail('syntax');
    inner = inner.slice(colon + 1);
    hasSourceRoute = true;
  }
  const at = inner.lastIndexOf('@');
  if (at <= 0) return fail('syntax');
  const local = inner.slice(0, at);
  const domain = inner.slice(at + 1);
  const isQuoted = local.startsWith('"');
  if (!(isQuoted ? isQuotedString(local) : isDotString(local))) return fail('syntax');
  const isAddressLiteral = domain.startsWith('[');
  if (!(isAddressLiteral ? isAddressLiteralText(domain) : isDomainName(domain, ascii))) return fail('syntax');
  if ((ascii ? local.length : octets(local)) > MAX_LOCAL_OCTETS || (ascii ? domain.length : octets(domain)) > MAX_DOMAIN_OCTETS) return fail('path-too-long');
  const normalized = isAddressLiteral ? domain : domain.toLowerCase();
  return { ok: true, value: { mailbox: mailbox(local, normalized, { isQuoted, isAddressLiteral, hasSourceRoute }, ascii), end: close + 1 } };
}

/** Index of the '>' closing the path, skipping quoted strings; -1 if none. */
function findPathEnd(s: string): number {
  if (s.indexOf('"') < 0) { // nothing quoted: the first '>' unless a '<' comes before it
    const gt = s.indexOf('>', 1);
    const lt = s.indexOf('<', 1);
    return lt >= 0 && (gt < 0 || lt < gt) ? -1 : gt;
  }
  let quoted = false;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === '>' && !quoted) return i;
    else if (c === '<' && !quoted) return -1;
  }
  return -1;
}

function isDotString(local: string): boolean {
  return DOT_STRING.test(local);
}

/**
 * RFC 5321 Quoted-string: qtextSMTP (and UTF-8) or backslash + printable ASCII, except < and >
 * (even escaped): the address is written between angle brackets in Received, DSNs and logs, and
 * nodemailer's header writer turns them into spaces, so one address would become another.
 */
function isQuotedString(local: string): boolean {
  if (local.length < 2 || !local.endsWith('"') || /[<>]/.test(local)) return false;
  const body = [...local.slice(1, -1)];
  for (let i = 0; i < body.length; i++) {
    const code = body[i]!.codePointAt(0)!;
    if (code === 0x5c) {
      const next = body[++i]?.codePointAt(0);
      if (next === undefined || next < 32 || next > 126) return false;
    } else if (code < 32 || code === 0x22 || code === 0x7f) {
      return false;
    }
  }
  return true;
}

/** `ascii`: the domain is known to be all ASCII (one test of the whole name). */
function isDomainName(domain: string, ascii = false): boolean {
  if (domain.length === 0 || domain.length > MAX_DOMAIN_OCTETS) return false;
  if (ascii) return ASCII_DOMAIN.test(domain);
  const labels = domain.split('.');
  if (!labels.every((l) => l.length > 0 && l.length <= 63 && LDH_LABEL.test(l))) return false;
  return !NON_ASCII.test(domain) || domainToASCII(domain) !== '';
}

function isAddressLiteralText(lit: string): boolean {
  if (!lit.endsWith(']')) return false;
  const body = lit.slice(1, -1);
  // node:net accepts a zone index ("fe80::1%eth0"); RFC 5321's IPv6-addr has none.
  if (/^IPv6:/i.test(body)) return !body.includes('%') && net.isIPv6(body.slice(5));
  return net.isIPv4(body);
}

/** " KEY=VALUE KEY2" → Map(upper-case key → value or null); duplicates and bad syntax rejected. */
function parseParams(text: string): ArgsResult<Map<string, string | null>> {
  if (text === '') return NO_PARAMS; // only iterated by the callers: one shared empty result
  const params = new Map<string, string | null>();
  if (text[0] !== ' ') return fail('syntax');
  for (const item of text.split(' ').filter((t) => t !== '')) {
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).toUpperCase();
    const value = eq < 0 ? null : item.slice(eq + 1);
    const valueOk = value === null || VALUE.test(value) || (key === 'ORCPT' && UNITEXT_VALUE.test(value) && !LONE_SURROGATE.test(value));
    if (!KEYWORD.test(key) || !valueOk || params.has(key)) return fail('param-syntax');
    params.set(key, value);
  }
  return { ok: true, value: params };
}

function parseMailParams(text: string): ArgsResult<MailParams> {
  const parsed = parseParams(text);
  if (!parsed.ok) return parsed;
  const out: MailParams = { size: null, body: null, smtputf8: false, ret: null, envid: null, requireTls: false };
  for (const [key, value] of parsed.value) {
    switch (key) {
      case 'SIZE':
        if (value === null || !/^\d{1,20}$/.test(value)) return fail('param-syntax');
        out.size = Number(value);
        break;
      case 'BODY': {
        const body = value?.toUpperCase();
        if (body !== '7BIT' && body !== '8BITMIME') return fail('param-unknown');
        out.body = body;
        break;
      }
      case 'SMTPUTF8':
        if (value !== null) return fail('param-syntax');
        out.smtputf8 = true;
        break;
      case 'RET': // RFC 3461 §4.3
        out.ret = parseRet(value);
        if (!out.ret) return fail('param-syntax');
        break;
      case 'ENVID': // RFC 3461 §4.4 (xtext)
        out.envid = parseEnvid(value);
        if (out.envid === null) return fail('param-syntax');
        break;
      case 'REQUIRETLS': // RFC 8689; the session refuses it where it is not offered
        if (value !== null) return fail('param-syntax');
        out.requireTls = true;
        break;
      case 'AUTH': // RFC 4954 §5: accepted and ignored (we never trust a client-asserted identity)
        if (value === null) return fail('param-syntax');
        break;
      default:
        return fail('param-unknown');
    }
  }
  return { ok: true, value: out };
}
