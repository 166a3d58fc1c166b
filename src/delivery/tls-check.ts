// Owns the judgement of an established session's TLS against its TlsRequirement: which version
// and cipher, whether the certificate is authenticated (DANE match, or a chain valid against the
// CA store / delivery.tlsCaFile and a name match), and, when the requirement demands
// authentication or TLS and did not get it, the reason the host must not be used. Runs after the
// handshake and EHLO, before MAIL FROM or AUTH, so nothing of a message is sent on a failure.
import tls from 'node:tls';
import { LocalFailure } from './classify.js';
import { verifyDane } from './dane.js';
import { policyLabel, requiresAuthentication, requiresTls, type TlsRequirement, type TlsResult } from './tls-policy.js';

/** A host refused because its TLS fell short of the requirement (temporary, 4.7.5); `tls`: what it achieved, if a session got that far. */
export class TlsRequirementFailure extends LocalFailure {
  constructor(reason: string, readonly tls: TlsResult | null, options?: { cause?: unknown }) {
    super('temporary', '4.7.5', reason, options);
  }
}

export interface TlsJudgement {
  result: TlsResult;
  /** Set when the requirement was not met: the session must be closed unused. */
  failure: string | null;
}

/** `socket`: the TLS socket, or null for a plaintext session; `host`: the MX host, for reasons. */
export function judgeTls(socket: tls.TLSSocket | null, req: TlsRequirement, host: string, now: number): TlsJudgement {
  const base = { policy: req.source, level: req.level };
  if (!socket) {
    const result: TlsResult = { version: null, cipher: null, verified: false, ...base };
    return { result, failure: requiresTls(req.level) ? `${policyLabel(req.source)}: ${host} offers no TLS` : null };
  }
  const auth = authenticate(socket, req, now);
  const result: TlsResult = {
    version: socket.getProtocol() ?? null,
    cipher: socket.getCipher()?.name ?? null,
    verified: auth.error === null,
    ...base,
    ...(auth.error !== null ? { error: auth.error } : {}),
  };
  const failure = requiresAuthentication(req.level) && auth.error !== null ? `${policyLabel(req.source)}: ${auth.error}` : null;
  return { result, failure };
}

/** null error: authenticated. Every level is judged, so the record says whether even opportunistic TLS was verified. */
function authenticate(socket: tls.TLSSocket, req: TlsRequirement, now: number): { error: string | null } {
  if (req.level === 'dane') {
    const check = verifyDane(peerChain(socket), req.tlsa, req.names, now);
    return { error: check.ok ? null : check.reason };
  }
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? 'unknown error');
    // With rejectUnauthorized off node still checks the name it connected to (the MX host).
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return { error: `the certificate is not valid for ${req.names.join(' or ') || 'the host'}` };
    return { error: `the certificate is not trusted (${code})` };
  }
  const cert = socket.getPeerCertificate(false);
  if (req.names.length > 0 && !req.names.some((n) => tls.checkServerIdentity(n, cert) === undefined)) {
    return { error: `the certificate is not valid for ${req.names.join(' or ')}` };
  }
  return { error: null };
}

/** The peer's certificates as DER, leaf first, as far as the chain links go. */
function peerChain(socket: tls.TLSSocket): Buffer[] {
  const out: Buffer[] = [];
  const seen = new Set<string>();
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    out.push(cert.raw);
    cert = cert.issuerCertificate;
  }
  return out;
}
