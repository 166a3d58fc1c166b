// Test PKI for the transport-security tests: a throwaway CA (selfsigned), leaf certificates it
// signs for given host names, self-signed certificates nobody trusts, the TLSA data of a
// certificate, and a local HTTPS server serving MTA-STS policy files by Host header.
//
//   const ca = await createTestCa();  await writeFile(caFile, ca.cert);   // delivery.tlsCaFile
//   const leaf = await issueCert(ca, ['mx.example.test']);                // { cert, key } PEM
//   startReceiver({ host, tlsOptions: { cert: leaf.cert, key: leaf.key } })
//   tlsaData(leaf.cert, 1, 1)  → sha256 of the SubjectPublicKeyInfo (a "3 1 1" record)
//   const web = await startPolicyServer({ host: '127.0.3.10', cert: leaf });
//   web.policies.set('example.test', { body: 'version: STSv1\nmode: enforce\n…' });
//   web.requests → ['example.test', …] (the domain of each request);  await web.close();
import { createHash, X509Certificate } from 'node:crypto';
import https from 'node:https';
import type net from 'node:net';
import { generate } from 'selfsigned';

export interface Pem { cert: string; key: string }

export async function createTestCa(name = 'Postlane Test CA'): Promise<Pem> {
  const pems = await generate([{ name: 'commonName', value: name }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** A server certificate for `names`, signed by `ca`, or self-signed when `ca` is null. */
export async function issueCert(ca: Pem | null, names: string[], opts: { notAfter?: Date } = {}): Promise<Pem> {
  const pems = await generate([{ name: 'commonName', value: names[0]! }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256',
    ...(ca ? { ca: { cert: ca.cert, key: ca.key } } : {}),
    ...(opts.notAfter ? { notAfterDate: opts.notAfter, notBeforeDate: new Date(opts.notAfter.getTime() - 86_400_000) } : {}),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((value) => ({ type: 2 as const, value })) },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** The association data of a TLSA record for `certPem`: selector 0 cert / 1 SPKI; matching 0 raw / 1 sha256 / 2 sha512. */
export function tlsaData(certPem: string, selector: 0 | 1, matchingType: 0 | 1 | 2): Buffer {
  const x = new X509Certificate(certPem);
  const data = selector === 0 ? x.raw : x.publicKey.export({ type: 'spki', format: 'der' });
  if (matchingType === 0) return data;
  return createHash(matchingType === 1 ? 'sha256' : 'sha512').update(data).digest();
}

export interface PolicyResponse { body: string; status?: number; contentType?: string; location?: string }

export interface PolicyServer {
  host: string;
  port: number;
  /** Policy domain (without "mta-sts.") → what to serve. Unknown domains get 404. */
  policies: Map<string, PolicyResponse>;
  /** The domain of each request received, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startPolicyServer(opts: { host: string; cert: Pem }): Promise<PolicyServer> {
  const policies = new Map<string, PolicyResponse>();
  const requests: string[] = [];
  const server = https.createServer({ cert: opts.cert.cert, key: opts.cert.key }, (req, res) => {
    const domain = String(req.headers.host ?? '').replace(/:\d+$/, '').replace(/^mta-sts\./, '');
    requests.push(domain);
    const p = req.url === '/.well-known/mta-sts.txt' ? policies.get(domain) : undefined;
    if (!p) { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'); return; }
    res.writeHead(p.status ?? 200, { 'content-type': p.contentType ?? 'text/plain', ...(p.location ? { location: p.location } : {}) });
    res.end(p.body);
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, opts.host, () => resolve()); });
  return {
    host: opts.host,
    port: (server.address() as net.AddressInfo).port,
    policies,
    requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** An MTA-STS policy file. */
export const policyText = (mode: 'enforce' | 'testing' | 'none', mx: string[], maxAge = 86_400) =>
  ['version: STSv1', `mode: ${mode}`, ...mx.map((m) => `mx: ${m}`), `max_age: ${maxAge}`, ''].join('\r\n');
