// A receiving SMTP server for tests (an independent peer built on the `smtp-server` package):
// records every accepted message and counts sessions, with scripted refusals.
//
//   const mx = await startReceiver({ host: '127.0.0.2' });          // port 0: pick a free one
//   const mx2 = await startReceiver({ host: '127.0.0.3', port: mx.port }); // same port, other address
//   startReceiver({ host, tls: false })              // no STARTTLS offered (default: STARTTLS, self-signed)
//   startReceiver({ host, auth: { user, pass } })    // AUTH PLAIN/LOGIN required (after STARTTLS)
//   startReceiver({ host, tlsOptions: { maxVersion: 'TLSv1' } })  // extra node:tls server options
//   startReceiver({ host, hide: ['SMTPUTF8', 'REQUIRETLS'] })     // extensions not offered (REQUIRETLS: offered under TLS)
//   startReceiver({ host, behaviour: {
//     connect: () => ({ code: 421, message: '4.3.2 busy' }),      // refuse at the greeting
//     mail: (addr) => null, rcpt: (addr) => ({ code: 550, message: '5.1.1 unknown' }),
//     data: () => ({ code: 451, message: '4.3.0 try later' }),   // after the body was read
//     dataDelayMs: 300,                                          // answer (and record) the DATA this much later
//     holdData: () => released,                                  // answer each DATA once this resolves (mx.heldData: how many wait)
//     refuse: true,                                              // nothing listens: ECONNREFUSED
//     authFailed: (a) => ({ code: 535, message: `5.7.8 no ${a.password}` }), // the answer to a wrong AUTH
//   } })
//   startReceiver({ host, dsn: true })               // advertise DSN (RFC 3461); messages record its parameters
//   mx.messages → [{ mailFrom, rcptTo, body, tls, user, receivedAt, dsn, smtpUtf8, requireTls, remoteAddress, ehlo }]  ('' for the null sender;
//                 smtpUtf8/requireTls: the MAIL command carried SMTPUTF8/REQUIRETLS)
//   mx.sessions, mx.maxConcurrentSessions;  await mx.waitFor(2, 5000);  await mx.close();
// A behaviour function returning null accepts. Messages are recorded only when accepted. Reply
// texts are sent as given (put the enhanced status code in `message` yourself).
import net from 'node:net';
import type tls from 'node:tls';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { createSelfSigned } from '../../src/tls/certificates.js';

export interface SmtpReply { code: number; message: string }

export interface ReceiverBehaviour {
  connect?(): SmtpReply | null;
  mail?(address: string): SmtpReply | null;
  rcpt?(address: string): SmtpReply | null;
  data?(): SmtpReply | null;
  /** Answer each DATA this many ms after its end (a slow MX: deliveries stay in flight longer). */
  dataDelayMs?: number;
  /** Answer each DATA only once the promise this returns resolves (deliveries held in flight on cue). */
  holdData?: () => Promise<void>;
  refuse?: boolean;
  /** The answer to a failed AUTH (default 535 5.7.8 Authentication failed), e.g. one that echoes what was sent. */
  authFailed?(auth: { username: string; password: string }): SmtpReply;
}

/** The DSN parameters as the receiver decoded them (xtext undone); only with `dsn: true`. */
export interface ReceivedDsn { ret?: string; envid?: string; rcpt: { notify?: string[]; orcpt?: string }[] }
export interface ReceivedMessage {
  mailFrom: string; rcptTo: string[]; body: Buffer; tls: boolean; user: string | null; receivedAt: number;
  smtpUtf8: boolean; requireTls: boolean; dsn?: ReceivedDsn;
  /** Which client sent it: its address (the egress source's bind address) and the name it gave in EHLO/HELO. */
  remoteAddress: string; ehlo: string;
}

export interface Receiver {
  host: string;
  port: number;
  messages: ReceivedMessage[];
  /** Sessions opened so far. */
  readonly sessions: number;
  /** Most sessions open at the same time. */
  readonly maxConcurrentSessions: number;
  /** DATA answers waiting for behaviour.holdData now. */
  readonly heldData: number;
  waitFor(n: number, timeoutMs: number): Promise<ReceivedMessage[]>;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  host?: string;
  port?: number;
  tls?: boolean;
  auth?: { user: string; pass: string };
  /** Extra node:tls server options for STARTTLS (e.g. to make the handshake fail). */
  tlsOptions?: tls.TlsOptions;
  /** EHLO extensions not to offer. */
  hide?: ('SMTPUTF8' | 'REQUIRETLS')[];
  behaviour?: ReceiverBehaviour;
  /** Advertise DSN and record the parameters received (default: not offered, like smtp-server). */
  dsn?: boolean;
}

let certificate: Promise<{ cert: string; key: string }> | undefined;
const selfSigned = () => (certificate ??= createSelfSigned('receiver.test'));

const smtpError = (r: SmtpReply) => Object.assign(new Error(r.message), { responseCode: r.code });
const reply = (r: SmtpReply | null | undefined) => (r ? smtpError(r) : null);

/** What the server hooks update; read by the Receiver's getters. */
interface ReceiverState { messages: ReceivedMessage[]; waiters: Set<() => void>; sessions: number; open: number; maxOpen: number; held: number }

export async function startReceiver(opts: ReceiverOptions = {}): Promise<Receiver> {
  const host = opts.host ?? '127.0.0.2';
  if (opts.behaviour?.refuse) return refusingReceiver(host, opts.port ?? 0);
  const state: ReceiverState = { messages: [], waiters: new Set(), sessions: 0, open: 0, maxOpen: 0, held: 0 };
  const server = new SMTPServer(await serverOptions(host, opts, state));
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  return {
    host,
    port: (server.server.address() as net.AddressInfo).port,
    messages: state.messages,
    get sessions() { return state.sessions; },
    get maxConcurrentSessions() { return state.maxOpen; },
    get heldData() { return state.held; },
    waitFor: (n, timeoutMs) => waitFor(state.messages, state.waiters, n, timeoutMs),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function serverOptions(host: string, opts: ReceiverOptions, state: ReceiverState): Promise<SMTPServerOptions> {
  const b = opts.behaviour ?? {};
  const tls = opts.tls ?? true;
  return {
    name: host,
    logger: false,
    size: 64 * 1024 * 1024,
    closeTimeout: 250,
    disableReverseLookup: true,
    disabledCommands: [...(tls ? [] : ['STARTTLS']), ...(opts.auth ? [] : ['AUTH'])],
    authOptional: !opts.auth,
    hideDSN: !opts.dsn,
    hideSMTPUTF8: opts.hide?.includes('SMTPUTF8') ?? false,
    hideREQUIRETLS: opts.hide?.includes('REQUIRETLS') ?? false,
    ...(tls ? { ...(await selfSigned()), ...opts.tlsOptions } : {}),
    onConnect(_session, cb) {
      state.sessions++;
      state.maxOpen = Math.max(state.maxOpen, ++state.open);
      cb(reply(b.connect?.()));
    },
    onClose() { state.open--; },
    onAuth(auth, _session, cb) {
      const ok = opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass;
      const refused = b.authFailed?.({ username: auth.username ?? '', password: auth.password ?? '' }) ?? { code: 535, message: '5.7.8 Authentication failed' };
      cb(ok ? null : smtpError(refused), ok ? { user: auth.username } : undefined);
    },
    onMailFrom(address, _session, cb) { cb(reply(b.mail?.(address.address))); },
    onRcptTo(address, _session, cb) { cb(reply(b.rcpt?.(address.address))); },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const answer = () => {
          const refusal = reply(b.data?.());
          if (!refusal) record(state, session, Buffer.concat(chunks));
          cb(refusal);
        };
        const later = () => { if (b.dataDelayMs) setTimeout(answer, b.dataDelayMs); else answer(); };
        if (!b.holdData) return later();
        state.held++;
        void b.holdData().then(() => { state.held--; later(); });
      });
    },
  };
}

function record(state: ReceiverState, session: SMTPServerSession, body: Buffer) {
  const env = session.envelope as SMTPServerSession['envelope'] & { dsn?: { ret?: string | null; envid?: string | null } };
  const rcptDsn = (a: unknown) => (a as { dsn?: { notify?: string[]; orcpt?: string } }).dsn ?? {};
  const dsn: ReceivedDsn | undefined = env.dsn
    ? { ...(env.dsn.ret ? { ret: env.dsn.ret } : {}), ...(env.dsn.envid ? { envid: env.dsn.envid } : {}), rcpt: env.rcptTo.map(rcptDsn) }
    : undefined;
  state.messages.push({
    ...(dsn ? { dsn } : {}),
    mailFrom: env.mailFrom ? env.mailFrom.address : '',
    rcptTo: env.rcptTo.map((r) => r.address),
    body,
    tls: session.secure,
    user: (session.user as string | undefined) ?? null,
    receivedAt: Date.now(),
    smtpUtf8: (env as { smtpUtf8?: boolean }).smtpUtf8 === true,
    requireTls: (env as { requireTLS?: boolean }).requireTLS === true,
    remoteAddress: session.remoteAddress.replace(/^::ffff:/, ''),
    ehlo: session.hostNameAppearsAs,
  });
  for (const w of state.waiters) w();
}

function waitFor(messages: ReceivedMessage[], waiters: Set<() => void>, n: number, timeoutMs: number): Promise<ReceivedMessage[]> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (messages.length < n) return;
      clearTimeout(timer);
      waiters.delete(check);
      resolve(messages);
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`receiver: ${messages.length} of ${n} messages after ${timeoutMs} ms`));
    }, timeoutMs);
    waiters.add(check);
    check();
  });
}

/** Reserves nothing: binds to learn a free port (if 0), then closes so connections are refused. */
async function refusingReceiver(host: string, port: number): Promise<Receiver> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => { probe.once('error', reject); probe.listen(port, host, () => resolve()); });
  const chosen = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return {
    host,
    port: chosen,
    messages: [],
    sessions: 0,
    maxConcurrentSessions: 0,
    heldData: 0,
    waitFor: (n, timeoutMs) => waitFor([], new Set(), n, timeoutMs),
    close: async () => undefined,
  };
}
