// A tiny authoritative DNS server for tests, answering over UDP and TCP on one 127.x port with
// records you set. Point the relay at it with config `dns.servers: ['127.0.0.1:' + dns.port]`.
//
//   const dns = await startDnsServer();            // { host: '127.0.0.1' } by default
//   dns.set('example.test', 'MX', [{ exchange: 'mx1.example.test', priority: 10 }]);
//   dns.set('mx1.example.test', 'A', ['127.0.0.2']);
//   dns.set('example.test', 'TXT', ['v=spf1 -all']);   // a string[] entry is one TXT record in chunks
//   dns.setZone({ 'other.test': { MX: [...], A: [...], AAAA: [...], TXT: [...] } });
//   dns.fail('broken.test', 'servfail' | 'timeout' | 'refused'); dns.fail('broken.test', null);
//   dns.set('_25._tcp.mx1.example.test', 'TLSA', [{ usage: 3, selector: 1, matchingType: 1, certificate: sha256OfSpki }]);
//   dns.set('s1._domainkey.example.test', 'CNAME', ['s1.dkim.provider.test']);  // an alias (one target)
//   dns.set('2.0.0.127.in-addr.arpa', 'PTR', ['mta1.example.test']);          // reverse DNS
//   dns.secure('_25._tcp.mx1.example.test');      // answers for this name carry the AD bit (DNSSEC-validated)
//   dns.secure('_25._tcp.mx1.example.test', false);
//   dns.queries  → [{ name, type, transport, dnssecOk }] received so far
//   await dns.close();
//
// Semantics: names are case-insensitive, without the trailing dot. A name with any record set (of
// any type) exists: other types answer NOERROR with no answers (NODATA). Unknown names answer
// NXDOMAIN. A null MX (RFC 7505) is `{ exchange: '.', priority: 0 }`. A name with a CNAME answers
// every other type as a recursive resolver does: the CNAME, then the target's records of that type
// (chains followed up to 8 deep; the rcode is the final target's). TTL is 0 so no resolver
// caches between test steps. A UDP answer larger than the client's buffer has TC set (the client
// retries over TCP). The AD bit is set, like a validating resolver does (RFC 6840 §5.8), on
// answers (NOERROR, NODATA or NXDOMAIN) for a name marked secure, when the query had DO or AD set.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';

export type DnsRecordType = 'MX' | 'A' | 'AAAA' | 'TXT' | 'TLSA' | 'CNAME' | 'PTR';
export interface MxRecord { exchange: string; priority: number }
export type TxtRecord = string | string[];
export interface TlsaRecord { usage: number; selector: number; matchingType: number; certificate: Buffer }
export interface DnsRecords { MX?: MxRecord[]; A?: string[]; AAAA?: string[]; TXT?: TxtRecord[]; TLSA?: TlsaRecord[]; CNAME?: string[]; PTR?: string[] }
export type DnsFailure = 'servfail' | 'timeout' | 'refused';

export interface DnsServer {
  host: string;
  port: number;
  set(name: string, type: 'MX', records: MxRecord[]): void;
  set(name: string, type: 'A' | 'AAAA' | 'CNAME' | 'PTR', records: string[]): void;
  set(name: string, type: 'TXT', records: TxtRecord[]): void;
  set(name: string, type: 'TLSA', records: TlsaRecord[]): void;
  setZone(zone: Record<string, DnsRecords>): void;
  fail(name: string, mode: DnsFailure | null): void;
  /** Mark answers for `name` as DNSSEC-validated (the AD bit), or stop doing so. */
  secure(name: string, on?: boolean): void;
  readonly queries: { name: string; type: string; transport: 'udp' | 'tcp'; dnssecOk: boolean }[];
  close(): Promise<void>;
}

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;
const norm = (name: string) => name.toLowerCase().replace(/\.$/, '');

interface ZoneState { zone: Map<string, DnsRecords>; failures: Map<string, DnsFailure>; secure: Set<string>; queries: DnsServer['queries'] }

export async function startDnsServer(opts: { host?: string } = {}): Promise<DnsServer> {
  const host = opts.host ?? '127.0.0.1';
  const state: ZoneState = { zone: new Map(), failures: new Map(), secure: new Set(), queries: [] };
  const answer = (query: Buffer, transport: 'udp' | 'tcp') => answerQuery(state, query, transport);
  const { udp, tcp, port } = await listenBoth(host, answer);

  function set(name: string, type: DnsRecordType, records: unknown[]) {
    const key = norm(name);
    const entry = state.zone.get(key) ?? {};
    (entry as Record<string, unknown[]>)[type] = records;
    state.zone.set(key, entry);
  }

  return {
    host,
    port,
    set: set as DnsServer['set'],
    setZone(z) { for (const [name, recs] of Object.entries(z)) state.zone.set(norm(name), { ...recs }); },
    fail(name, mode) { if (mode) state.failures.set(norm(name), mode); else state.failures.delete(norm(name)); },
    secure(name, on = true) { if (on) state.secure.add(norm(name)); else state.secure.delete(norm(name)); },
    queries: state.queries,
    close: async () => {
      await Promise.all([new Promise<void>((resolve) => udp.close(() => resolve())), tcp.close()]);
    },
  };
}

/** The response to one query, or null to stay silent (undecodable, or a 'timeout' name). */
function answerQuery(state: ZoneState, query: Buffer, transport: 'udp' | 'tcp'): Buffer | null {
  let req: dnsPacket.DecodedPacket;
  try { req = dnsPacket.decode(query); } catch { return null; }
  const q = req.questions?.[0];
  if (!q) return null;
  const name = norm(q.name);
  const opt = requestOpt(req);
  const dnssecOk = opt?.flag_do === true;
  state.queries.push({ name, type: q.type, transport, dnssecOk });
  const failure = state.failures.get(name);
  if (failure === 'timeout') return null;
  let rcode: number = RCODE.NOERROR;
  let answers: dnsPacket.Answer[] = [];
  if (failure) rcode = failure === 'servfail' ? RCODE.SERVFAIL : RCODE.REFUSED;
  else ({ rcode, answers } = resolveChain(state, q.name, q.type));
  const authenticated = !failure && state.secure.has(name) && (dnssecOk || req.flag_ad);
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_AVAILABLE | ((req.flags ?? 0) & dnsPacket.RECURSION_DESIRED)
    | (authenticated ? dnsPacket.AUTHENTIC_DATA : 0) | rcode;
  const additionals: dnsPacket.Answer[] = opt ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: dnssecOk ? dnsPacket.DNSSEC_OK : 0 } as dnsPacket.OptAnswer] : [];
  const res = dnsPacket.encode({ type: 'response', id: req.id, flags, questions: [q], answers, additionals });
  if (transport === 'udp' && res.length > udpLimit(req)) {
    return dnsPacket.encode({ type: 'response', id: req.id, flags: flags | dnsPacket.TRUNCATED_RESPONSE, questions: [q], answers: [] });
  }
  return res;
}

/** The answers for name/type, following CNAMEs (for any other type) as a recursive resolver would. */
function resolveChain(state: ZoneState, qname: string, type: string): { rcode: number; answers: dnsPacket.Answer[] } {
  const answers: dnsPacket.Answer[] = [];
  let owner = qname;
  for (let depth = 0; depth < 8; depth++) {
    const recs = state.zone.get(norm(owner));
    if (!recs) return { rcode: RCODE.NXDOMAIN, answers };
    const alias = recs.CNAME?.[0];
    if (!alias || type === 'CNAME') return { rcode: RCODE.NOERROR, answers: [...answers, ...recordsFor(owner, type, recs)] };
    answers.push({ name: owner, ttl: 0, class: 'IN', type: 'CNAME', data: alias });
    owner = alias;
  }
  return { rcode: RCODE.SERVFAIL, answers: [] };
}

/** UDP on a free port, then TCP on the same one (retrying if that TCP port happens to be taken). */
async function listenBoth(host: string, answer: Answerer) {
  for (let tries = 1; ; tries++) {
    const udp = await listenUdp(host, answer);
    const port = udp.address().port;
    try {
      return { udp, tcp: await listenTcp(host, port, answer), port };
    } catch (err) {
      udp.close();
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || tries >= 5) throw err;
    }
  }
}

type Answerer = (query: Buffer, transport: 'udp' | 'tcp') => Buffer | null;

async function listenUdp(host: string, answer: Answerer): Promise<dgram.Socket> {
  const udp = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  udp.on('message', (msg, rinfo) => {
    const res = answer(msg, 'udp');
    if (res) udp.send(res, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(0, host, () => resolve()); });
  return udp;
}

/** DNS over TCP: each message is preceded by its 2-byte length. */
async function listenTcp(host: string, port: number, answer: Answerer): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const res = answer(buf.subarray(2, 2 + len), 'tcp');
        buf = buf.subarray(2 + len);
        if (res) { const head = Buffer.alloc(2); head.writeUInt16BE(res.length); sock.write(Buffer.concat([head, res])); }
      }
    });
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, () => resolve()); });
  return {
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function recordsFor(name: string, type: string, recs: DnsRecords): dnsPacket.Answer[] {
  const base = { name, ttl: 0, class: 'IN' as const };
  switch (type) {
    case 'MX':
      return (recs.MX ?? []).map((r) => ({ ...base, type: 'MX' as const, data: { preference: r.priority, exchange: r.exchange === '.' ? '' : r.exchange } }));
    case 'A':
    case 'AAAA':
      return (recs[type] ?? []).map((ip) => ({ ...base, type, data: ip }));
    case 'TXT':
      return (recs.TXT ?? []).map((t) => ({ ...base, type: 'TXT' as const, data: Array.isArray(t) ? t : [t] }));
    case 'TLSA':
      return (recs.TLSA ?? []).map((t) => ({ ...base, type: 'TLSA' as const, data: t }));
    case 'CNAME':
      return (recs.CNAME ?? []).slice(0, 1).map((target) => ({ ...base, type: 'CNAME' as const, data: target }));
    case 'PTR':
      return (recs.PTR ?? []).map((target) => ({ ...base, type: 'PTR' as const, data: target }));
    default:
      return [];
  }
}

function requestOpt(req: dnsPacket.DecodedPacket): dnsPacket.OptAnswer | undefined {
  return req.additionals?.find((a) => a.type === 'OPT') as dnsPacket.OptAnswer | undefined;
}

function udpLimit(req: dnsPacket.DecodedPacket): number {
  return Math.max(512, requestOpt(req)?.udpPayloadSize ?? 512);
}
