// Fuzz target: the envelope address parser (src/message/address.ts: MAIL FROM / RCPT TO arguments
// and bare mailboxes from config and the HTTP API). Properties: never throws; whatever it accepts
// is valid by an independent RFC 5321 / RFC 6531 grammar written here (with a strict IPv6 parser,
// no zone index), is well-formed Unicode, contains no CR, LF, NUL, < or >, keeps the octet limits,
// has isUtf8 exactly when non-ASCII, and re-serialised as <address> parses to the same mailbox.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseMailArgs, parseMailbox, parseRcptArgs, relayTrickIn, type Mailbox } from '../../../src/message/address.js';
import { corpusLines } from '../corpus.js';
import type { FuzzTarget } from '../harness.js';

// ---- The reference grammar (RFC 5321 §4.1.2, §4.1.3; RFC 6531 §3.3 UTF8-non-ascii) ----
const ATEXT = "A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~";
const NON_ASCII = '\\u0080-\\u{10ffff}';
const DOT_STRING = new RegExp(`^[${ATEXT}${NON_ASCII}]+(\\.[${ATEXT}${NON_ASCII}]+)*$`, 'u');
/** qtextSMTP without < and > (Postlane refuses them: the address is written between angle brackets). */
const QUOTED_STRING = new RegExp(`^"([\\x20\\x21\\x23-\\x3b\\x3d\\x3f-\\x5b\\x5d-\\x7e${NON_ASCII}]|\\\\[\\x20-\\x3b\\x3d\\x3f-\\x7e])*"$`, 'u');
const LABEL = new RegExp(`^[A-Za-z0-9${NON_ASCII}]([A-Za-z0-9\\-${NON_ASCII}]*[A-Za-z0-9${NON_ASCII}])?$`, 'u');
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX16 = /^[0-9A-Fa-f]{1,4}$/;

/** RFC 4291 §2.2 text forms (what RFC 5321's IPv6-addr allows), without a zone index. */
export function isStrictIPv6(s: string): boolean {
  let groups = 8;
  let text = s;
  const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) { if (!IPV4.test(v4[1]!)) return false; text = text.slice(0, v4.index + 1) + '0'; groups = 7; }
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const parts = (h: string) => (h === '' ? [] : h.split(':'));
  if (halves.length === 1) { const p = parts(text); return p.length === groups && p.every((g) => HEX16.test(g)); }
  const [a, b] = [parts(halves[0]!), parts(halves[1]!)];
  return a.length + b.length <= groups - 1 && [...a, ...b].every((g) => HEX16.test(g));
}

function isReferenceDomain(d: string): boolean {
  if (d.startsWith('[')) {
    if (!d.endsWith(']')) return false;
    const body = d.slice(1, -1);
    return /^IPv6:/i.test(body) ? isStrictIPv6(body.slice(5)) : IPV4.test(body);
  }
  return d.split('.').every((l) => LABEL.test(l));
}

/** `local@domain` by the reference grammar (the `<postmaster>` form is handled by the caller). */
export function isReferenceAddress(address: string): boolean {
  if (!isWellFormed(address)) return false;
  const at = address.lastIndexOf('@');
  if (at <= 0) return false;
  const local = address.slice(0, at);
  return (DOT_STRING.test(local) || QUOTED_STRING.test(local)) && isReferenceDomain(address.slice(at + 1));
}

const octets = (s: string) => Buffer.byteLength(s, 'utf8');
/** No lone surrogates (String.prototype.isWellFormed, not in the ES2022 lib). */
const isWellFormed = (s: string) => !/\p{Surrogate}/u.test(s);

function checkMailbox(m: Mailbox, context: string): void {
  const postmaster = m.domain === '' && /^postmaster$/i.test(m.local);
  assert.ok(postmaster || isReferenceAddress(m.address), `accepted an address the grammar refuses: ${JSON.stringify(m.address)} (${context})`);
  assert.ok(!/[\r\n\0<>]/.test(m.address), `CR, LF, NUL or <> in ${JSON.stringify(m.address)}`);
  assert.ok(isWellFormed(m.address), 'well-formed Unicode');
  assert.equal(m.isUtf8, /[^\x00-\x7f]/.test(m.address), 'isUtf8 exactly when non-ASCII');
  assert.ok(octets(m.local) <= 64 && octets(m.domain) <= 255 && octets(`<${m.address}>`) <= 256, 'octet limits');
  assert.equal(m.address, m.domain ? `${m.local}@${m.domain}` : m.local);
  if (postmaster) return;
  const again = parseMailbox(m.address);
  assert.ok(again, `re-serialised ${JSON.stringify(m.address)} does not parse`);
  assert.deepEqual({ ...again, hasSourceRoute: m.hasSourceRoute }, m, 're-parse gives the same mailbox');
  relayTrickIn(m);
}

export function checkAddressInput(text: string): void {
  const mail = parseMailArgs(`FROM:${text}`);
  if (mail.ok && mail.value.sender) checkMailbox(mail.value.sender, 'MAIL');
  if (mail.ok && mail.value.params.size !== null) assert.ok(Number.isFinite(mail.value.params.size) && mail.value.params.size >= 0);
  const rcpt = parseRcptArgs(`TO:${text}`);
  if (rcpt.ok) checkMailbox(rcpt.value.recipient, 'RCPT');
  const inner = /^<([^]*)>$/.exec(text)?.[1] ?? text;
  const bare = parseMailbox(inner);
  if (bare) {
    checkMailbox(bare, 'bare');
    assert.ok(!bare.hasSourceRoute, 'a bare mailbox has no source route');
  }
}

// ---- Inputs: addresses assembled from the grammar's pieces, some with one defect ----
const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);
const odd = pick('é', 'ü', '用', 'ß', 'İ', 'K', '\u0085', '\u00a0', '\u2028', '\u200b', '\ufeff', '😀', '\ud800', '\udfff', 'ﬀ');
const junk = pick('.', ' ', '"', '\\', '@', '<', '>', ',', ':', ';', '[', ']', '(', ')', '\0', '\r', '\n', '\t', '%', '!', '\u007f', '\u0001');
const atom = fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[a-zA-Z0-9!#$%&'*+\-/=?^_`{|}~]{1,8}$/) },
  { weight: 1, arbitrary: fc.tuple(fc.stringMatching(/^[a-z0-9]{0,4}$/), odd, fc.stringMatching(/^[a-z0-9]{0,4}$/)).map((p) => p.join('')) });
const quoted = fc.array(fc.oneof(fc.stringMatching(/^[ !#-\[\]-~]{1,6}$/), odd, pick('\\"', '\\\\', '\\a', '\\ ', '\\<', '\\\u0001', '\\é')), { maxLength: 4 })
  .map((a) => `"${a.join('')}"`);
const local = fc.oneof({ weight: 6, arbitrary: fc.array(atom, { minLength: 1, maxLength: 3 }).map((a) => a.join('.')) },
  { weight: 2, arbitrary: quoted }, { weight: 1, arbitrary: pick('postmaster', 'Postmaster', 'a'.repeat(64), 'a'.repeat(65), 'é'.repeat(32), 'é'.repeat(33)) });
const ipv6 = fc.oneof(
  pick('::1', '::', '2001:db8::1', '1::2:3:4:5:6:7:8', '1:2:3:4:5:6:7::8', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', 'fe80::1%25lo', '::ffff:1.2.3.4', '::ffff:1.2.3', '1:2:3:4:5:6:1.2.3.4',
    '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3.4', '12345::1', 'g::1', ':1::2', '1::2::3', '1:2:3:4:5:6:7:8%x', '::ffff:01.2.3.4', '0:0:0:0:0:0:0:0', ''),
  fc.array(fc.oneof(fc.stringMatching(/^[0-9a-fA-F]{0,5}$/), pick('', '1.2.3.4', '%zone', '1%a')), { minLength: 1, maxLength: 10 }).map((g) => g.join(':')),
);
const label = fc.oneof({ weight: 6, arbitrary: fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?$/) },
  { weight: 1, arbitrary: pick('xn--fsqu00a', 'xn--', 'a'.repeat(63), 'a'.repeat(64), '例子', 'İSTANBUL', 'K', 'a_b', '-a', 'a-', 'é'.repeat(40)) },
  { weight: 1, arbitrary: fc.tuple(fc.stringMatching(/^[a-z0-9]{1,4}$/), odd).map((p) => p.join('')) });
const domain = fc.oneof(
  { weight: 5, arbitrary: fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.')) },
  { weight: 2, arbitrary: fc.tuple(pick('IPv6:', 'ipv6:', 'IPv4:', '', 'IPv6:'), fc.oneof(ipv6, pick('192.0.2.1', '01.2.3.4', '256.1.1.1', '1.2.3', '1.2.3.4.5'))).map(([t, a]) => `[${t}${a}]`) },
  { weight: 1, arbitrary: pick('a.b.c', `${'d'.repeat(63)}.`.repeat(4) + 'com', `${'d'.repeat(63)}.`.repeat(3) + 'd'.repeat(59), 'a..b', 'a.', '.a') },
);
const route = fc.array(domain.map((d) => `@${d}`), { minLength: 1, maxLength: 3 }).map((r) => `${r.join(',')}:`);
const params = fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 2, arbitrary: fc.array(pick(' SIZE=100', ' BODY=8BITMIME', ' BODY=7bit', ' SMTPUTF8', ' AUTH=<>', ' RET=HDRS', ' ENVID=a+2Bb', ' NOTIFY=SUCCESS,DELAY', ' ORCPT=rfc822;a+2Bb@c.example', ' NOTIFY=NEVER,DELAY'), { maxLength: 3 }).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.array(pick(' SIZE=100', ' SIZE=99999999999999999999', ' SIZE=1e3', ' BODY=8BITMIME', ' SMTPUTF8', ' AUTH=x@y', ' RET=FULL', ' =', '  ', ' SIZE', ' NOTIFY=NEVER'), { maxLength: 3 }).map((p) => p.join('')) });
/** One junk character at a random place, one time in four. */
const withDefect = (a: fc.Arbitrary<string>) => fc.tuple(a, fc.option(fc.tuple(fc.nat(), junk), { freq: 3 }))
  .map(([t, d]) => (d ? t.slice(0, d[0] % (t.length + 1)) + d[1] + t.slice(d[0] % (t.length + 1)) : t));
const path = withDefect(fc.tuple(fc.option(route, { freq: 12 }), local, domain, params)
  .map(([r, l, d, p]) => `<${r ?? ''}${l}@${d}>${p}`));

const ARGS_CORPUS = () => corpusLines('address/args.txt').map((l) => Buffer.from(l.toString('utf8').replace(/^(FROM|TO):/i, ''), 'utf8'));

export const addressTarget: FuzzTarget<string> = {
  name: 'address',
  arbitrary: fc.oneof({ weight: 12, arbitrary: path }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) }, { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'<>@".\\:,[]aé '.split('')), maxLength: 40 }) }),
  corpus: ARGS_CORPUS,
  fromBytes: (b) => b.toString('utf8'),
  check: checkAddressInput,
  tokens: ['@', '<', '>', '"', '\\', '.', '[IPv6:', '::', '%', 'é', '用', '\r', '\0', ' SMTPUTF8', ' SIZE=1', '@a,@b:'],
  show: (s) => JSON.stringify(s),
};
