// Owns DKIM signing (RFC 6376, RFC 8463) through mailauth's dkimSign: relaxed/relaxed, one
// signature per key (dual RSA + Ed25519), h= naming the fields below that are present, with From
// listed once more than it occurs ("oversigned"), so a From field added later breaks the
// signature instead of being displayed by the receiver. Returns the header lines to prepend.
import type { Readable } from 'node:stream';
import type { DKIMSignOptions } from 'mailauth';
import type { dkimSign as DkimSignFn } from 'mailauth/lib/dkim/sign.js';

// Not the package root: that loads SPF/DMARC/BIMI/ARC too. And loaded by the first signature, not
// at start: about 10 MB a relay without DKIM keys never needs (bench/README.md "Memory").
let signer: Promise<typeof DkimSignFn> | null = null;
const loadDkimSign = () => (signer ??= import('mailauth/lib/dkim/sign.js').then((m) => m.dkimSign));
import { RelayError } from '../errors.js';
import type { DkimAlgorithm } from '../store/store.js';

/** Signed when present, in this order of preference (h= lists them as found, bottom-up). */
export const SIGNED_HEADERS = [
  'From', 'To', 'Cc', 'Subject', 'Date', 'Message-ID', 'Reply-To', 'MIME-Version', 'Content-Type',
  'Content-Transfer-Encoding', 'List-Unsubscribe', 'List-Unsubscribe-Post',
] as const;

export interface SigningKey { selector: string; algorithm: DkimAlgorithm; privateKey: string }

export interface SignOptions {
  domain: string;                 // d=
  keys: readonly SigningKey[];    // one DKIM-Signature each; RSA first
  /** t= (defaults to now); tests and the accept path pass the injected clock's time. */
  signTime?: Date;
}

export class DkimSignError extends RelayError {
  constructor(message: string, options?: { cause?: unknown }) { super('ERR_DKIM_SIGN', message, undefined, options); }
}

/** A header as mailauth's parser gives it to the hook below. */
interface ParsedHeader { key: string; casedKey: string }

/**
 * Oversigns From. mailauth builds h= by joining the `casedKey` of each signed field, and hashes
 * each field's own line, so naming From twice in the first From field's key adds one "From" to
 * h= without adding bytes to the hash: exactly an oversigned From. mailauth has no option for
 * this; its `getARChain` callback (called with the parsed header block before signing, for ARC)
 * is the one hook. The tests assert the resulting h= and verify with an independent verifier.
 */
function oversignFrom(headers: { parsed: ParsedHeader[] }): false {
  const from = headers.parsed.find((h) => h.key === 'from');
  if (from) from.casedKey = `${from.casedKey}: ${from.casedKey}`;
  return false; // no ARC chain
}

const ORDER: Record<DkimAlgorithm, number> = { rsa: 0, ed25519: 1 };

/** The DKIM-Signature header lines (CRLF-terminated) to prepend to `message`; '' if `keys` is empty. */
export async function signMessage(message: Buffer | Readable, opts: SignOptions): Promise<string> {
  if (opts.keys.length === 0) return '';
  const keys = [...opts.keys].sort((a, b) => ORDER[a.algorithm] - ORDER[b.algorithm]);
  const options = {
    canonicalization: 'relaxed/relaxed',
    headerList: SIGNED_HEADERS.join(':'), // mailauth takes a colon-separated string (its typings say string[])
    signTime: opts.signTime ?? new Date(),
    getARChain: oversignFrom,
    signatureData: keys.map((k) => ({
      signingDomain: opts.domain, selector: k.selector, privateKey: k.privateKey, algorithm: `${k.algorithm}-sha256`,
      canonicalization: 'relaxed/relaxed',
    })),
  } as unknown as DKIMSignOptions;
  const dkimSign = await loadDkimSign();
  let result: Awaited<ReturnType<typeof DkimSignFn>>;
  try { result = await dkimSign(message, options); } catch (err) {
    throw new DkimSignError(`DKIM signing for ${opts.domain} failed: ${(err as Error).message}`, { cause: err });
  }
  if (result.errors.length > 0) {
    const first = result.errors[0] as unknown as { err?: Error; selector?: string };
    throw new DkimSignError(`DKIM signing for ${opts.domain} (selector ${first.selector ?? '?'}) failed: ${first.err?.message ?? 'unknown error'}`);
  }
  return result.signatures;
}
