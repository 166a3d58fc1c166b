// The mailbox-provider simulator: one SMTP listener (nodemailer's smtp-server) per simulated
// provider, each on its own address/port, answering as its profile says (provider-state.ts
// decides, this module only speaks SMTP). Used by tests in-process and by `postlane sim`.
//
//   const sim = await startSimulator({ providers: [
//     { name: 'gmail', profile: 'gmail', host: '127.0.0.2', port: 0, overrides: { ratePerMinute: 30 } },
//     { name: 'outlook', profile: 'microsoft', host: '127.0.0.3', port: 0 },
//     { name: 'yahoo', profile: 'yahoo', host: '127.0.0.4' },   // no port: shares the first port-less one's
//   ], clock });                                                  // clock: optional, for windows and greylisting
//   sim.address('gmail') → { host, port };  sim.providers → [{ name, host, port, profile }]
//   sim.received('gmail') / sim.received() → [{ provider, clientIp, mailFrom, rcptTo, size, tls, receivedAt, magic, body }]
//   sim.refusals() → [{ provider, at, clientIp, stage, reason, code, mailFrom?, rcpt? }]
//   sim.stats() → [{ provider, sessions, openSessions, maxOpenSessions, messages, recipients, bytes, refusals: {reason: n} }]
//   await sim.waitFor(2, 10_000, 'gmail');  await sim.close();
//
// Multi-line replies go out as real SMTP continuation lines ("421-4.7.28 …" … "421 4.7.28 …"):
// smtp-server sends an error's message on one line, so each connection's send() is wrapped to
// split a message on its line breaks (it still strips control characters from every line).
import net from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { systemClock, type Clock } from '../clock.js';
import { createSelfSigned } from '../tls/certificates.js';
import { resolveProfile, type SimProfile, type SimProfileOverrides, type SimProfileInput } from './profile.js';
import { ProviderState, fillReply, magicKind, type SimComplaint, type SimEvent, type SimReceived, type SimRefusal, type SimStats, type WireReply } from './provider-state.js';
import { buildArf, sendReport, type ComplaintTarget } from './complaint.js';

export type { SimComplaint, SimEvent, SimReceived, SimRefusal, SimStats, ComplaintTarget };

export interface SimProviderOptions {
  /** How this listener is called in received()/stats(); defaults to the profile's name. */
  name?: string;
  /** A stock profile name (gmail, microsoft, yahoo) or a full profile (may `extends` a stock one). */
  profile: string | (Partial<SimProfileInput> & { extends?: string });
  host?: string;
  /** 0 picks a free port. Omitted: the port the first such provider got, so providers on
   *  different addresses share one port (what a relay's `delivery.port` needs). */
  port?: number;
  overrides?: SimProfileOverrides;
}

export interface SimulatorOptions {
  providers: SimProviderOptions[];
  /** Keep each received message's bytes in received()[i].body (default true; the CLI keeps none). */
  keepBodies?: boolean;
  clock?: Clock;
  /** Called for every message received, refusal and complaint sent, as it happens. */
  onEvent?: (e: SimEvent) => void;
  /** Mail an ARF complaint here for each accepted message to a complaint@ address (complaint.ts). */
  complaints?: ComplaintTarget;
}

export interface SimProviderInfo { name: string; host: string; port: number; profile: SimProfile }

export interface Simulator {
  readonly providers: SimProviderInfo[];
  address(name: string): { host: string; port: number };
  received(name?: string): SimReceived[];
  refusals(name?: string): SimRefusal[];
  stats(): SimStats[];
  waitFor(n: number, timeoutMs: number, name?: string): Promise<SimReceived[]>;
  /** Complaints (ARF reports) sent so far, with the target's reply or the error. */
  complaints(): SimComplaint[];
  close(): Promise<void>;
}

interface Running { info: SimProviderInfo; state: ProviderState; server: SMTPServer }

const certificates = new Map<string, Promise<{ cert: string; key: string }>>();
const selfSigned = (hostname: string) => {
  let c = certificates.get(hostname);
  if (!c) certificates.set(hostname, (c = createSelfSigned(hostname)));
  return c;
};

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  if (opts.providers.length === 0) throw new Error('simulator: no providers to start');
  const clock = opts.clock ?? systemClock;
  const keepBodies = opts.keepBodies ?? true;
  const running: Running[] = [];
  const complaints: SimComplaint[] = [];
  const pending = new Set<Promise<void>>();
  const complain = opts.complaints ? complainer(opts.complaints, clock, (c) => { complaints.push(c); opts.onEvent?.({ type: 'complaint', ...c }); }, pending) : null;
  let sharedPort: number | undefined;
  try {
    for (const p of opts.providers) {
      const profile = resolveProfile(p.profile, p.overrides);
      const name = p.name ?? profile.name;
      if (running.some((r) => r.info.name === name)) throw new Error(`simulator: two providers named "${name}"`);
      const state = new ProviderState(name, profile, clock, opts.onEvent);
      const server = new SMTPServer(await serverOptions(profile, state, keepBodies, complain && ((m) => complain(name, profile, m))));
      server.on('error', () => undefined); // a client's broken session is not the simulator's failure
      const host = p.host ?? '127.0.0.1';
      await new Promise<void>((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(p.port ?? sharedPort ?? 0, host, () => { server.server.off('error', reject); resolve(); });
      });
      const port = (server.server.address() as net.AddressInfo).port;
      if (p.port === undefined) sharedPort ??= port;
      patchMultilineReplies(server);
      running.push({ info: { name, host, port, profile }, state, server });
    }
  } catch (err) {
    await Promise.all(running.map((r) => closeServer(r.server)));
    throw err;
  }
  const pick = (name?: string) => {
    if (name === undefined) return running;
    const r = running.find((x) => x.info.name === name);
    if (!r) throw new Error(`simulator: no provider named "${name}" (have: ${running.map((x) => x.info.name).join(', ')})`);
    return [r];
  };
  return {
    providers: running.map((r) => r.info),
    address(name) { const r = pick(name)[0]!; return { host: r.info.host, port: r.info.port }; },
    received: (name) => pick(name).flatMap((r) => r.state.received).sort((a, b) => a.receivedAt - b.receivedAt),
    refusals: (name) => pick(name).flatMap((r) => r.state.refusals).sort((a, b) => a.at - b.at),
    stats: () => running.map((r) => r.state.stats()),
    async waitFor(n, timeoutMs, name) {
      if (name !== undefined) return pick(name)[0]!.state.waitFor(n, timeoutMs);
      if (running.length === 1) return running[0]!.state.waitFor(n, timeoutMs);
      return waitAcross(running, n, timeoutMs);
    },
    complaints: () => [...complaints],
    close: async () => { await Promise.all(running.map((r) => closeServer(r.server))); await Promise.all(pending); },
  };
}

type Accepted = { clientIp: string; mailFrom: string; rcptTo: string[]; body: Buffer };

/** Sends one ARF per complaint@ recipient of an accepted message; never throws (errors are recorded). */
function complainer(target: ComplaintTarget, clock: Clock, record: (c: SimComplaint) => void, pending: Set<Promise<void>>) {
  return (provider: string, profile: SimProfile, m: Accepted) => {
    if (!profile.magicAddresses) return;
    for (const rcpt of m.rcptTo.filter((r) => magicKind(r) === 'complaint')) {
      const to = target.to ?? m.mailFrom;
      if (!to) continue; // a null sender (a bounce) gets no complaint
      const from = target.from ?? `feedback@${profile.hostname}`;
      const raw = buildArf({ reporterHost: profile.hostname, from, to, clientIp: m.clientIp, mailFrom: m.mailFrom, rcpt, receivedAt: clock.now(), original: m.body });
      const p: Promise<void> = sendReport(target, from, to, raw).then(
        (reply) => record({ provider, at: clock.now(), rcpt, to, reply }),
        (err: unknown) => record({ provider, at: clock.now(), rcpt, to, error: (err as Error).message }),
      ).finally(() => pending.delete(p));
      pending.add(p);
    }
  };
}

/** The client's IP as a provider sees it: IPv4-mapped IPv6 written as IPv4. */
export function clientIpOf(session: SMTPServerSession): string {
  const ip = session.remoteAddress ?? '';
  return ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

const asError = (r: WireReply) => Object.assign(new Error(r.lines.join('\n')), { responseCode: r.code });
const answer = (r: WireReply | null) => (r ? asError(r) : null);

async function serverOptions(profile: SimProfile, state: ProviderState, keepBodies: boolean, onAccepted: ((m: Accepted) => void) | null): Promise<SMTPServerOptions> {
  const accepted = new Set<string>(); // session ids that `connect` let in (and so must `close`)
  return {
    name: profile.hostname,
    banner: fillReply(profile.banner, { host: profile.hostname }).join(' '),
    logger: false,
    size: profile.maxMessageBytes,
    closeTimeout: 250,
    disableReverseLookup: true,
    disabledCommands: [...(profile.starttls ? [] : ['STARTTLS']), 'AUTH'],
    authOptional: true,
    ...(profile.starttls ? await selfSigned(profile.hostname) : {}),
    onConnect(session, cb) {
      const refusal = state.connect(clientIpOf(session));
      if (!refusal) accepted.add(session.id);
      cb(answer(refusal));
    },
    onClose(session) {
      if (accepted.delete(session.id)) state.close(clientIpOf(session));
    },
    onMailFrom(address, session, cb) { cb(answer(state.mail(clientIpOf(session), address.address))); },
    onRcptTo(address, session, cb) {
      cb(answer(state.rcpt(clientIpOf(session), session.envelope.mailFrom ? session.envelope.mailFrom.address : '', address.address)));
    },
    onData(stream, session, cb) {
      // Nothing past maxMessageBytes is kept: the message gets 552, and a client streaming
      // gigabytes must not exhaust the simulator's memory.
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= profile.maxMessageBytes) chunks.push(c);
      });
      stream.on('end', () => {
        const reply = () => {
          if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded || size > profile.maxMessageBytes) {
            return cb(Object.assign(new Error(`5.3.4 Message size exceeds fixed maximum message size (${profile.maxMessageBytes} bytes)`), { responseCode: 552 }));
          }
          const env = session.envelope;
          const accepted = { clientIp: clientIpOf(session), mailFrom: env.mailFrom ? env.mailFrom.address : '', rcptTo: env.rcptTo.map((r) => r.address), body: Buffer.concat(chunks) };
          const refusal = state.data(accepted.clientIp, { ...accepted, tls: session.secure }, accepted.body, keepBodies);
          cb(answer(refusal));
          if (!refusal) onAccepted?.(accepted);
        };
        if (profile.dataDelay > 0) setTimeout(reply, profile.dataDelay); else reply();
      });
    },
  };
}

type Sender = (code: number, data?: string | string[], context?: unknown) => void;

/** Make every connection of `server` send a message with line breaks as a multi-line reply. */
function patchMultilineReplies(server: SMTPServer) {
  const connections = (server as unknown as { connections: Set<{ send: Sender }> }).connections;
  const add = connections.add.bind(connections);
  connections.add = (conn) => {
    const send = conn.send.bind(conn);
    conn.send = (code, data, context) => send(code, typeof data === 'string' && data.includes('\n') ? data.split('\n') : data, context);
    return add(conn);
  };
}

function closeServer(server: SMTPServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function waitAcross(running: Running[], n: number, timeoutMs: number): Promise<SimReceived[]> {
  const all = () => running.flatMap((r) => r.state.received).sort((a, b) => a.receivedAt - b.receivedAt);
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => { clearInterval(poll); reject(new Error(`simulator: ${all().length} of ${n} messages after ${timeoutMs} ms`)); }, timeoutMs);
    const poll = setInterval(() => {
      if (all().length < n) return;
      clearTimeout(deadline); clearInterval(poll); resolve(all());
    }, 20);
  });
}
