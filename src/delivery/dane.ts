// Owns DANE for SMTP (RFC 7672, RFC 7671): looking up the TLSA records of an MX host through the
// SecureResolver, deciding whether they count (only DNSSEC-validated answers do: the AD bit), and
// matching a server's certificate chain against them. Usable records are DANE-TA(2) and
// DANE-EE(3) with selector 0/1 and matching type 0/1/2; PKIX-TA/EE(0/1) are unusable for SMTP.
// DANE-EE checks only the key or certificate (no names, no dates); DANE-TA checks the chain up to
// the matched trust anchor, its dates, and the names (the MX host, or the recipient domain).
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { SecureResolver } from './secure-resolver.js';

export interface TlsaRecord { usage: number; selector: number; matchingType: number; data: Buffer }

/**
 * 'secure': DNSSEC-validated TLSA records exist (usable or not). 'none': no TLSA, or not
 * validated: DANE does not apply. 'failed': the lookup failed for a host whose address records
 * are signed, so a downgrade cannot be ruled out: the host must not be used (RFC 7672 §2.2).
 */
export type DaneLookup =
  | { status: 'secure'; records: TlsaRecord[] }
  | { status: 'none' }
  | { status: 'failed'; reason: string };

export type DaneCheck = { ok: true; matched: string } | { ok: false; reason: string };

export const isUsableTlsa = (r: TlsaRecord): boolean =>
  (r.usage === 2 || r.usage === 3) && (r.selector === 0 || r.selector === 1) && r.matchingType >= 0 && r.matchingType <= 2;

/** The TLSA records of `_<port>._tcp.<host>`, as far as DNSSEC vouches for them. */
export async function lookupTlsa(resolver: SecureResolver, host: string, port: number): Promise<DaneLookup> {
  const name = `_${port}._tcp.${host}`;
  try {
    const res = await resolver.query(name, 'TLSA');
    if (res.rcode === 'NOERROR' || res.rcode === 'NXDOMAIN') {
      if (!res.authenticated) return { status: 'none' };
      const records = res.answers.flatMap((a) => (a.type === 'TLSA'
        ? [{ usage: a.data.usage, selector: a.data.selector, matchingType: a.data.matchingType, data: Buffer.from(a.data.certificate) }]
        : []));
      return records.length > 0 ? { status: 'secure', records } : { status: 'none' };
    }
    return await failedUnlessInsecure(resolver, host, `TLSA lookup for ${host} failed (${res.rcode})`);
  } catch (err) {
    return failedUnlessInsecure(resolver, host, `TLSA lookup for ${host} failed (${(err as { code?: string }).code ?? 'error'})`);
  }
}

/** A failed TLSA lookup matters only when the host's address is DNSSEC-signed. */
async function failedUnlessInsecure(resolver: SecureResolver, host: string, reason: string): Promise<DaneLookup> {
  try {
    const a = await resolver.query(host, 'A');
    return a.authenticated ? { status: 'failed', reason } : { status: 'none' };
  } catch {
    // No answer at all: the AD bit is only as trustworthy as the path to the resolver, and an
    // attacker on that path could as well answer without it, so this is no worse than 'none'.
    return { status: 'none' };
  }
}

/** The bytes a record's selector picks from a certificate: the whole DER, or its SubjectPublicKeyInfo. */
function selected(cert: X509Certificate, selector: number): Buffer {
  return selector === 0 ? cert.raw : cert.publicKey.export({ type: 'spki', format: 'der' });
}

function digest(data: Buffer, matchingType: number): Buffer {
  if (matchingType === 1) return createHash('sha256').update(data).digest();
  if (matchingType === 2) return createHash('sha512').update(data).digest();
  return data;
}

export function matchesTlsa(cert: X509Certificate, r: TlsaRecord): boolean {
  return digest(selected(cert, r.selector), r.matchingType).equals(r.data);
}

const describeRecord = (r: TlsaRecord) => `${r.usage} ${r.selector} ${r.matchingType}`;

/**
 * Checks a peer chain (leaf first, DER) against usable TLSA records. `names`: reference
 * identifiers for DANE-TA; `now`: ms since epoch, for DANE-TA validity dates.
 */
export function verifyDane(chainDer: Buffer[], records: TlsaRecord[], names: string[], now: number): DaneCheck {
  const chain = chainDer.map((d) => new X509Certificate(d));
  if (chain.length === 0) return { ok: false, reason: 'the server sent no certificate' };
  const usable = records.filter(isUsableTlsa);
  const ee = usable.find((r) => r.usage === 3 && matchesTlsa(chain[0]!, r));
  if (ee) return { ok: true, matched: describeRecord(ee) };
  let failure: string | null = null;
  for (const r of usable.filter((x) => x.usage === 2)) {
    const anchor = findAnchor(chain, r);
    if (anchor === null) continue;
    failure = checkPath(chain.slice(0, anchor.index + 1), anchor.key, names, now);
    if (failure === null) return { ok: true, matched: describeRecord(r) };
  }
  return { ok: false, reason: failure ?? 'no TLSA record matches the certificate' };
}

/**
 * Where a DANE-TA record anchors the chain: a certificate of the chain it matches, or (a full
 * public key, "2 1 0") the certificate that key signed. `key` then signs the last certificate.
 */
function findAnchor(chain: X509Certificate[], r: TlsaRecord): { index: number; key: KeyObject | null } | null {
  const i = chain.findIndex((c) => matchesTlsa(c, r));
  if (i >= 0) return { index: i, key: null };
  if (r.selector !== 1 || r.matchingType !== 0) return null;
  let key: KeyObject;
  try { key = createPublicKey({ key: r.data, format: 'der', type: 'spki' }); } catch { return null; }
  const j = chain.findIndex((c) => c.verify(key));
  return j >= 0 ? { index: j, key } : null;
}

/** Each certificate issued and signed by the next one, all within their dates, the leaf for a name. */
function checkPath(path: X509Certificate[], anchorKey: KeyObject | null, names: string[], now: number): string | null {
  for (let i = 0; i + 1 < path.length; i++) {
    if (!path[i]!.checkIssued(path[i + 1]!) || !path[i]!.verify(path[i + 1]!.publicKey)) {
      return 'the certificate chain does not lead to the DANE trust anchor';
    }
  }
  if (anchorKey && !path[path.length - 1]!.verify(anchorKey)) return 'the certificate chain does not lead to the DANE trust anchor';
  if (path.some((c) => now < Date.parse(c.validFrom) || now > Date.parse(c.validTo))) return 'a certificate of the chain is expired or not yet valid';
  const leaf = path[0]!;
  if (!names.some((n) => leaf.checkHost(n, { partialWildcards: false }) !== undefined)) {
    return `the certificate is not valid for ${names.join(' or ')}`;
  }
  return null;
}
