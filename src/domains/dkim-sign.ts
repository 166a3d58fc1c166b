// Owns DKIM signing (RFC 6376, RFC 8463): relaxed/relaxed by default, one signature per key (dual
// RSA + Ed25519), h= naming the fields below that are present, with From listed once more than it
// occurs ("oversigned"), so a From field added later breaks the signature instead of being
// displayed by the receiver. Returns the header lines to prepend.
//
// mailauth does the DKIM work (header/body split, body and header canonicalisation, the tag list
// and its folding; for relaxed header canonicalisation the last two are written here, byte for
// byte as mailauth writes them); the crypto step is crypto.sign with a parsed KeyObject. mailauth's
// dkimSign parses the PEM on every call (createPrivateKey, 1.5–1.9 ms, more than the signature)
// and refuses a KeyObject, so we drive its parts ourselves and keep parsed keys in a cache keyed
// by the PEM text: a rotated key is a different PEM, hence a different entry (bench/README.md
// "The DKIM key parse"). An RSA signature is made with crypto.sign's callback form, in libuv's
// thread pool: an RSA-2048 signature is about a millisecond of CPU the event loop no longer waits
// on (bench/README.md "HTTP API, fifth session"). An Ed25519 signature (~30 µs) is made inline:
// the pool's hand-off (a thread wake-up and the callback's return) costs about as much again.
/// <reference path="./mailauth-dkim.d.ts" />
import { createHash, createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';
import type { BodyHash } from 'mailauth/lib/dkim/body/index.js';
import type { ParsedHeader, ParsedHeaders } from 'mailauth/lib/dkim/message-parser.js';
import { RelayError } from '../errors.js';
import type { DkimAlgorithm } from '../store/store.js';

/** Signed when present, in this order of preference (h= lists them as found, bottom-up). */
export const SIGNED_HEADERS = [
  'From', 'To', 'Cc', 'Subject', 'Date', 'Message-ID', 'Reply-To', 'MIME-Version', 'Content-Type',
  'Content-Transfer-Encoding', 'List-Unsubscribe', 'List-Unsubscribe-Post',
] as const;
const HEADER_LIST = SIGNED_HEADERS.join(':');

export interface SigningKey { selector: string; algorithm: DkimAlgorithm; privateKey: string }

export type Canonicalization = `${'relaxed' | 'simple'}/${'relaxed' | 'simple'}`;

export interface SignOptions {
  domain: string;                 // d=
  keys: readonly SigningKey[];    // one DKIM-Signature each; RSA first
  /** t= (defaults to now); tests and the accept path pass the injected clock's time. */
  signTime?: Date;
  /** c= (header/body); relaxed/relaxed unless given. */
  canonicalization?: Canonicalization;
}

export class DkimSignError extends RelayError {
  constructor(message: string, options?: { cause?: unknown }) { super('ERR_DKIM_SIGN', message, undefined, options); }
}

const ORDER: Record<DkimAlgorithm, number> = { rsa: 0, ed25519: 1 };

/** crypto.sign with a callback: the signature is computed in libuv's thread pool, off the event loop. */
const signInPool = promisify(cryptoSign) as (algorithm: string | null, data: Buffer, key: KeyObject) => Promise<Buffer>;

/** Parsed private keys by PEM text. Bounded: cleared when full (keys in use are parsed again once). */
const parsedKeys = new Map<string, KeyObject>();
const PARSED_KEYS_MAX = 1000;

function keyObject(key: SigningKey, domain: string): KeyObject {
  let parsed = parsedKeys.get(key.privateKey);
  if (!parsed) {
    try { parsed = createPrivateKey({ key: key.privateKey, format: 'pem' }); } catch (err) {
      throw new DkimSignError(`DKIM signing for ${domain} (selector ${key.selector}) failed: ${(err as Error).message}`, { cause: err });
    }
    if (parsedKeys.size >= PARSED_KEYS_MAX) parsedKeys.clear();
    parsedKeys.set(key.privateKey, parsed);
  }
  if (parsed.asymmetricKeyType !== key.algorithm) {
    throw new DkimSignError(`DKIM signing for ${domain} (selector ${key.selector}) failed: Invalid key type: "${parsed.asymmetricKeyType}" (expecting "${key.algorithm}")`);
  }
  return parsed;
}

/**
 * mailauth's DKIM parts, loaded by the first signature, not at start: its tools module brings joi,
 * tldts and libmime, megabytes a relay without DKIM keys (and every CLI command) never needs
 * (bench/README.md "Memory").
 *
 * BodyHasher: the header block (From oversigned) and the body hash of a message, through mailauth's
 * parser and body canonicaliser. Oversigning: mailauth builds h= by joining the `casedKey` of each
 * signed field and hashes each field's own line, so naming From twice in the first From field's key
 * adds one "From" to h= without adding bytes to the hash: exactly an oversigned From.
 */
async function loadParts() {
  const [{ dkimBody }, { generateCanonicalizedHeader }, { MessageParser }, tools] = await Promise.all([
    import('mailauth/lib/dkim/body/index.js'), import('mailauth/lib/dkim/header/index.js'),
    import('mailauth/lib/dkim/message-parser.js'), import('mailauth/lib/tools.js'),
  ]);
  class BodyHasher extends MessageParser {
    headers: ParsedHeaders | null = null;
    #hash: BodyHash | null = null;
    /** bh= when hashWhole found the body as relaxed canonicalisation leaves it (relaxedBodyHashAsIs). */
    #whole: string | null = null;
    #headerChunks: Buffer[] = [];
    #tail = Buffer.alloc(0); // the header's last two bytes so far (an end split across chunks)
    constructor(private readonly bodyCanon: string) { super(); }

    /** MessageParser's split (header ends at LF LF or LF CR LF), found by search, not byte by byte. */
    override async processChunk(chunk: Buffer): Promise<void> {
      if (!chunk?.length) return;
      if (this.headers) return this.nextChunk(chunk);
      const probe = Buffer.concat([this.#tail, chunk]);
      const end = headerEnd(probe);
      if (end < 0) {
        this.#headerChunks.push(chunk);
        this.#tail = probe.subarray(-2);
        return;
      }
      const cut = end - this.#tail.length;
      this.#headerChunks.push(chunk.subarray(0, cut));
      await this.messageHeaders(parseHeaderBlock(Buffer.concat(this.#headerChunks)));
      if (cut < chunk.length) await this.nextChunk(chunk.subarray(cut));
    }

    /** A message that never ends its header block is all header. */
    override async finish(): Promise<void> {
      if (!this.headers && this.#headerChunks.length) await this.messageHeaders(parseHeaderBlock(Buffer.concat(this.#headerChunks)));
    }

    override async messageHeaders(headers: ParsedHeaders): Promise<void> {
      this.headers = headers;
      const from = headers.parsed.find((h) => h.key === 'from');
      if (from) from.casedKey = `${from.casedKey}: ${from.casedKey}`;
      this.#hash = dkimBody(this.bodyCanon, 'sha256', false);
    }

    override async nextChunk(chunk: Buffer): Promise<void> { this.#hash!.update(chunk); }

    /**
     * A whole message in one buffer, without the Writable stream: the header block, then the body
     * to the hash in one update. Only for CRLF-only bytes (what the API and accept paths sign):
     * MessageParser's byte-by-byte pass turns a bare LF into CRLF, so a message with one goes
     * through the stream (false returned, nothing consumed). Same bytes hashed as the stream's.
     */
    async hashWhole(buf: Buffer): Promise<boolean> {
      if (hasBareLf(buf)) return false;
      if (buf.length === 0) return true; // as the stream: no header, nothing to sign
      const end = headerEnd(buf);
      await this.messageHeaders(parseCrlfHeaderBlock(end < 0 ? buf : buf.subarray(0, end)));
      if (end >= 0 && end < buf.length) {
        const body = buf.subarray(end);
        this.#whole = this.bodyCanon === 'relaxed' ? relaxedBodyHashAsIs(body) : null;
        if (this.#whole === null) this.#hash!.update(body);
      }
      return true;
    }

    /** bh= once the whole message is written (a message without a body hashes an empty one). */
    bodyHash(): string { return this.#whole ?? this.#hash!.digest('base64'); }
  }
  return { BodyHasher, generateCanonicalizedHeader, ...tools };
}
let parts: ReturnType<typeof loadParts> | null = null;

const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * The relaxed body hash (sha256, base64) of a body without a bare LF that relaxed canonicalisation
 * leaves as it is, or null when it would change a line: a TAB, two spaces in a row, or a space
 * before CRLF, the only things that make mailauth's RelaxedHash rewrite a line (fixLineBuffer) once
 * bare LFs are ruled out. Then what it hashes is the body up to its last byte that is neither CR nor
 * LF (the empty lines at the end are dropped), and CRLF after it when anything was hashed. Its
 * per-byte loop over the body was 16 % of the HTTP API's program instructions a message (callgrind,
 * baseline code) and ~18 µs a 3.6 KB body with TurboFan; native searches and one update replace it
 * (bench/README.md, eleventh session). test/domains/dkim-sign.test.ts compares the two over generated bodies.
 */
export function relaxedBodyHashAsIs(body: Buffer): string | null {
  if (body.indexOf(0x09) >= 0 || body.indexOf('  ', 0, 'latin1') >= 0 || body.indexOf(' \r\n', 0, 'latin1') >= 0 || hasBareLf(body)) return null;
  let last = body.length - 1;
  while (last >= 0 && (body[last] === 0x0d || body[last] === 0x0a)) last--;
  const hash = createHash('sha256');
  if (last >= 0) hash.update(body.subarray(0, last + 1)).update(CRLF);
  return hash.digest('base64');
}

/** An LF not preceded by CR (MessageParser's ensureLinebreaks would rewrite it). */
function hasBareLf(buf: Buffer): boolean {
  for (let lf = buf.indexOf(0x0a); lf >= 0; lf = buf.indexOf(0x0a, lf + 1)) if (lf === 0 || buf[lf - 1] !== 0x0d) return true;
  return false;
}

/** Just past the header block's end in `buf` (the first LF LF or LF CR LF), or -1. */
function headerEnd(buf: Buffer): number {
  for (let lf = buf.indexOf(0x0a); lf >= 0 && lf < buf.length - 1; lf = buf.indexOf(0x0a, lf + 1)) {
    if (buf[lf + 1] === 0x0a) return lf + 2;
    if (buf[lf + 1] === 0x0d && buf[lf + 2] === 0x0a) return lf + 3;
  }
  return -1;
}

/**
 * mailauth's parseHeaders (tools.js), the same fields, in linear time: its own grows each folded
 * field by copying the continuation lines gathered so far, once per line, so a 256 KB header of one
 * field folded 64,000 times held the event loop for a minute (test/attack/dkim-folded-header.test.ts).
 */
export function parseHeaderBlock(buf: Buffer): ParsedHeaders {
  const groups: string[][] = [];
  for (const line of buf.toString('binary').replace(/[\r\n]+$/, '').split(/\r?\n/)) {
    if (groups.length > 0 && /^\s/.test(line)) groups.at(-1)!.push(line);
    else groups.push([line]);
  }
  const parsed = groups.map((lines) => {
    const row = lines.join('\r\n');
    const name = /^[^:]+/.exec(row);
    const casedKey = name ? name[0].trim() : undefined;
    return { key: casedKey?.toLowerCase() ?? null, casedKey, line: Buffer.from(row, 'binary') } as ParsedHeader;
  });
  return { parsed, original: buf };
}

/** A byte that JavaScript's \s matches in parseHeaderBlock's latin1 text: TAB, LF, VT, FF, CR, SP, NBSP. */
const isSpaceByte = (c: number | undefined) => c !== undefined && ((c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0xa0);

/**
 * parseHeaderBlock for a block without a bare LF (hashWhole's messages): the same fields, keys and
 * line bytes, each field's line a view of `buf` (its CRLFs are the ones parseHeaderBlock joins
 * with) instead of a latin1 string of the block split into lines, joined again and copied into a
 * new Buffer per field (allocation per API message, sixteenth session). test/domains/dkim-sign.test.ts
 * compares the two over generated blocks.
 */
export function parseCrlfHeaderBlock(buf: Buffer): ParsedHeaders {
  let end = buf.length; // parseHeaderBlock first drops the block's trailing CRs and LFs
  while (end > 0 && (buf[end - 1] === 0x0d || buf[end - 1] === 0x0a)) end--;
  const parsed: ParsedHeader[] = [];
  let start = 0;
  let lf = end > 0 ? buf.indexOf(0x0a, 0) : -1;
  let colon = -2; // the first ':' at or after start (-1: none left), looked up again once passed: linear in fields without one
  for (;;) { // one field: its first line, then every line after an LF that starts with \s
    // (an empty line, CR LF, is not a continuation: /^\s/ does not match '')
    while (lf >= 0 && lf < end && isSpaceByte(buf[lf + 1]) && !(buf[lf + 1] === 0x0d && buf[lf + 2] === 0x0a)) lf = buf.indexOf(0x0a, lf + 1);
    const fieldEnd = lf >= 0 && lf < end ? lf - 1 : end; // before the field's last CRLF
    if (colon !== -1 && colon < start) colon = buf.indexOf(0x3a, start);
    const nameEnd = colon >= 0 && colon < fieldEnd ? colon : fieldEnd;
    const casedKey = nameEnd > start ? buf.toString('latin1', start, nameEnd).trim() : undefined;
    parsed.push({ key: casedKey?.toLowerCase() ?? null, casedKey, line: buf.subarray(start, fieldEnd) } as ParsedHeader);
    if (fieldEnd === end) break;
    start = lf + 1;
    lf = buf.indexOf(0x0a, start);
  }
  return { parsed, original: buf };
}

/**
 * A d= or s= value that mailauth's formatSignatureHeaderLine writes as it is (punycode.toASCII leaves
 * it alone) and whose relaxed form is itself; anything else goes through mailauth.
 */
const PLAIN_TAG = /^[A-Za-z0-9._-]+$/;

/**
 * mailauth's formatRelaxedLine(line, '\r\n') of each signed field, joined (latin1 text): one
 * Buffer at the end instead of one per field and a concat.
 */
function relaxedLines(headers: readonly ParsedHeader[]): string {
  let out = '';
  for (const h of headers) {
    out += `${h.line.toString('binary').replace(/\r?\n/g, '').replace(/^([^:]*):\s*/, (_m, k: string) => `${k.toLowerCase().trim()}:`)
      .replace(/\s+/g, ' ').trim()}\r\n`;
  }
  return out;
}

/**
 * libmime's foldLines(str, 76) as mailauth 4.x's formatSignatureHeaderLine calls it (its libmime
 * 5.3): lines of at most 76 characters, broken before whitespace, a word longer than a line kept
 * whole. For the DKIM-Signature field written by signMessage (test/domains/dkim-sign.test.ts
 * compares the field with mailauth's).
 */
export function foldLines(str: string, lineLength = 76): string {
  let pos = 0;
  let result = '';
  const len = str.length;
  while (pos < len) {
    let line = str.substr(pos, lineLength);
    if (line.length < lineLength) { result += line; break; }
    let match = /^[^\n\r]*(\r?\n|\r)/.exec(line);
    if (match) {
      result += match[0];
      pos += match[0].length;
      continue;
    }
    if ((match = /(\s+)[^\s]*$/.exec(line)) && match[0].length < line.length) {
      line = line.substr(0, line.length - match[0].length);
    } else if ((match = /^[^\s]+(\s*)/.exec(str.substr(pos + line.length)))) {
      line += match[0].substr(0, match[0].length - (match[1] || '').length);
    }
    result += line;
    pos += line.length;
    if (pos < len) result += '\r\n';
  }
  return result;
}

/** The DKIM-Signature header lines (CRLF-terminated) to prepend to `message`; '' if `keys` is empty. */
export async function signMessage(message: Buffer | Readable, opts: SignOptions): Promise<string> {
  if (opts.keys.length === 0) return '';
  const keys = [...opts.keys].sort((a, b) => ORDER[a.algorithm] - ORDER[b.algorithm]);
  let parsed: KeyObject[];
  try { parsed = keys.map((k) => keyObject(k, opts.domain)); } catch (err) { // before reading: a bad key fails at once
    if (!Buffer.isBuffer(message)) message.resume(); // nothing will read it: do not buffer the message
    throw err;
  }
  const { BodyHasher, generateCanonicalizedHeader, formatSignatureHeaderLine, getSigningHeaderLines, writeToStream } = await (parts ??= loadParts());
  const canonicalization = opts.canonicalization ?? 'relaxed/relaxed';
  const hasher = new BodyHasher(canonicalization.split('/')[1]!);
  try { if (!Buffer.isBuffer(message) || !(await hasher.hashWhole(message))) await writeToStream(hasher, message); } catch (err) {
    throw new DkimSignError(`DKIM signing for ${opts.domain} failed: ${(err as Error).message}`, { cause: err });
  }
  if (!hasher.headers) return ''; // an empty message: nothing to sign
  const lines = getSigningHeaderLines(hasher.headers.parsed, HEADER_LIST);
  const bodyHash = hasher.bodyHash();
  const signTime = opts.signTime ?? new Date();
  // Relaxed header canonicalisation with plain d= and s=: the canonical header and the field written
  // here (relaxedLines, foldLines), the same bytes as mailauth's generateCanonicalizedHeader and
  // formatSignatureHeaderLine, which cost two field formats (a sort, punycode, libmime's fold) and
  // a Buffer per signed field a signature (bench/README.md, twelfth session); anything else through mailauth.
  const direct = canonicalization.startsWith('relaxed/') && PLAIN_TAG.test(opts.domain) && keys.every((k) => PLAIN_TAG.test(k.selector));
  const signedLines = direct ? relaxedLines(lines.headers) : '';
  const signatures = await Promise.all(keys.map(async (k, i) => {
    const tags = direct ? `v=1; a=${k.algorithm}-sha256; c=${canonicalization}; d=${opts.domain}; h=${lines.keys}; q=dns/txt; s=${k.selector}; t=${Math.floor(signTime.getTime() / 1000)}; bh=${bodyHash}; ` : '';
    const { canonicalizedHeader, dkimHeaderOpts } = direct
      ? { canonicalizedHeader: Buffer.from(signedLines + `dkim-signature:${tags}b=`.replace(/\s+/g, ' ').trim(), 'binary'), dkimHeaderOpts: null }
      : generateCanonicalizedHeader('DKIM', lines, {
        signingDomain: opts.domain, selector: k.selector, algorithm: `${k.algorithm}-sha256`, canonicalization, bodyHash, signTime,
      });
    // RFC 8463: Ed25519 signs the SHA-256 of the canonicalised header; RSA signs it with rsa-sha256.
    let b: Buffer;
    try {
      b = k.algorithm === 'rsa'
        ? await signInPool('rsa-sha256', canonicalizedHeader, parsed[i]!)
        : cryptoSign(null, createHash('sha256').update(canonicalizedHeader).digest(), parsed[i]!);
    } catch (err) {
      throw new DkimSignError(`DKIM signing for ${opts.domain} (selector ${k.selector}) failed: ${(err as Error).message}`, { cause: err });
    }
    return dkimHeaderOpts === null
      ? `${foldLines(`DKIM-Signature: ${tags}${`b=${b.toString('base64')}`.replace(/.{75}/g, '$& ').trim()}`)}\r\n`
      : `${formatSignatureHeaderLine('DKIM', { ...dkimHeaderOpts, b: b.toString('base64') }, true)}\r\n`;
  }));
  return signatures.join('');
}
