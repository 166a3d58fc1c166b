// Owns the first moments of a connection on a listener with smtp.<listener>.proxyProtocol: the
// decision whether its source may send a PROXY header (trusted load balancers only), reading
// that header off the socket with a deadline (proxy-protocol.ts parses it), and handing back the
// client address everything downstream uses (limits, relayNetworks, AUTH limiter, logs, Received).
//
// Bytes that followed the header are pushed back into the socket, unread, so the SMTP connection
// (or the TLS handshake of the submissions listener, which comes after the header) sees them first.
import type net from 'node:net';
import { ProxyHeaderParser, type ProxyParse } from './proxy-protocol.js';

export interface ProxyPolicy {
  /** smtp.<listener>.proxyProtocol.trusted as a matcher. */
  isTrusted: (ip: string) => boolean;
  /** true: untrusted sources are closed; false: they are direct clients under their own address. */
  required: boolean;
  /** How long a trusted source may take to send the whole header. */
  timeoutMs: number;
}

export type Admission =
  /** No PROXY header expected: the socket's peer is the client. */
  | { kind: 'direct'; ip: string }
  /** A valid header: `ip` is the client it names, or the peer itself for LOCAL/UNKNOWN. */
  | { kind: 'proxied'; ip: string; peer: string; version: 1 | 2 }
  /** Close without a reply (HAProxy's convention: a proxy peer would not understand one). */
  | { kind: 'refused'; peer: string; reason: string };

/** Decides how a new socket from `peer` enters; waits for the PROXY header when one is due. */
export async function admitConnection(socket: net.Socket, peer: string, policy: ProxyPolicy | null): Promise<Admission> {
  if (!policy) return { kind: 'direct', ip: peer };
  if (!policy.isTrusted(peer)) {
    return policy.required ? { kind: 'refused', peer, reason: 'source not in proxyProtocol.trusted' } : { kind: 'direct', ip: peer };
  }
  const header = await readProxyHeader(socket, policy.timeoutMs);
  if (header.status !== 'done') return { kind: 'refused', peer, reason: header.reason };
  return { kind: 'proxied', ip: header.source?.address ?? peer, peer, version: header.version };
}

type HeaderResult = Exclude<ProxyParse, { status: 'more' }>;

/**
 * Reads until the header is complete, invalid, the peer closes, or timeoutMs passes. On success
 * the socket is left paused with the bytes after the header unshifted back into it.
 */
export function readProxyHeader(socket: net.Socket, timeoutMs: number): Promise<HeaderResult> {
  return new Promise((resolve) => {
    const parser = new ProxyHeaderParser();
    const finish = (r: HeaderResult) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      const r = parser.push(chunk);
      if (r.status === 'more') return;
      socket.pause();
      if (r.status === 'done' && r.rest.length) socket.unshift(r.rest);
      finish(r);
    };
    const onEnd = () => finish({ status: 'invalid', reason: 'connection closed before the PROXY header was complete' });
    const timer = setTimeout(() => finish({ status: 'invalid', reason: `no complete PROXY header within ${timeoutMs} ms` }), timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}
