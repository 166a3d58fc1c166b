// The end-to-end rig most relay-process tests start from: a test DNS server, a test MX (127.0.0.2,
// named mx.dest.test) that the recipient domains' MX records point to, and a relay process that
// resolves through that server and delivers to that MX's port, the test's own config merged over
// that. Relay, MX and DNS server are closed when the test ends (t.after). What a test provisions
// beyond that, and everything it asserts, stays in the test:
//
//   const rig = await createRig(t, { config: { limits: { maxRecipients: 100 } }, mx: { tls: false } });
//   await rig.ok('accounts', 'add', 'acme'); ...; await rig.relay.start();      // cliFixture's ok/out/addTenant
//
// Most mail-flow tests then submit as one SMTP user, alice (ALICE), sending as acme.test:
//
//   const { mx, submitter, api, received } = await startMailRig(t, {
//     provision: (r) => r.relay.addSigningDomain(r.dns, 'acme.test'),    // before alice is added
//     adminKey: true,                                                     // `api` calls with an operator key
//   });
import type test from 'node:test';
import assert from 'node:assert/strict';
import { RelayProcess, deepMerge, eventually } from './relay-process.js';
import { startDnsServer, type DnsRecords, type DnsServer } from './dns-server.js';
import { startReceiver, type Receiver, type ReceiverOptions, type ReceivedMessage } from './smtp-receiver.js';
import { Submitter, queueIdOf } from './smtp-client.js';
import { cliFixture } from './cli-fixture.js';
import { call, type ApiAnswer } from './api-fixture.js';

/** The SMTP user of startMailRig (`users add alice --password alice-password --domain acme.test`). */
export const ALICE = { user: 'alice', pass: 'alice-password', domain: 'acme.test', address: 'alice@acme.test' } as const;

export interface RigOptions {
  /** Relay config merged over the rig's (dns.servers, delivery.port) and RelayProcess's defaults. */
  config?: Record<string, unknown>;
  /** The test MX's options (host 127.0.0.2 and port 0 unless given). */
  mx?: ReceiverOptions;
  /** Recipient domains whose MX record names mx.dest.test; default dest.test alone. */
  mxDomains?: string[];
  /** More records for the test DNS server. */
  zone?: Record<string, DnsRecords>;
}

export type Rig = { dns: DnsServer; mx: Receiver; relay: RelayProcess } & ReturnType<typeof cliFixture>;

/** Starts the DNS server and the MX and creates the relay (not started: provision it first). */
export async function createRig(t: Pick<test.TestContext, 'after'>, o: RigOptions = {}): Promise<Rig> {
  const dns = await startDnsServer();
  const mx = await startReceiver({ host: '127.0.0.2', port: 0, ...o.mx });
  const mxRecord = { MX: [{ exchange: 'mx.dest.test', priority: 10 }] };
  dns.setZone({ 'mx.dest.test': { A: ['127.0.0.2'] }, ...Object.fromEntries((o.mxDomains ?? ['dest.test']).map((d) => [d, mxRecord])), ...o.zone });
  const relay = await RelayProcess.create(deepMerge({ dns: { servers: [`127.0.0.1:${dns.port}`] }, delivery: { port: mx.port } }, o.config ?? {}));
  t.after(async () => { await relay.cleanup(); await mx.close(); await dns.close(); });
  return { dns, mx, relay, ...cliFixture(() => relay) };
}

/** A call to the started relay's HTTP API with `token`: GET, or POST when there is a body (sent as JSON unless a string). */
export type Api = (path: string, opts?: { method?: string; body?: unknown }) => Promise<ApiAnswer>;

export function apiAs(relay: RelayProcess, token: string): Api {
  return (path, opts = {}) => call(`http://127.0.0.1:${relay.port('http')}`, opts.method ?? (opts.body === undefined ? 'GET' : 'POST'), path, { token, body: opts.body });
}

export interface MailRig extends Rig {
  /** Logged in as alice on the submission port; closed by t.after. */
  submitter: Submitter;
  /** The operator key (account default, scope admin) with adminKey, else ''. */
  key: string;
  /** The HTTP API with `key`. */
  api: Api;
  /** The message whose Subject line is `subject`, once the test MX has it. */
  received(subject: string): Promise<ReceivedMessage>;
  /** Submits `From: alice@acme.test`, To, Subject, `headers` (whole lines) and the body "Hello" as alice; resolves to the 250 reply. */
  send(to: string[], subject: string, headers?: string): Promise<string>;
  /** send, then waits for the message at the test MX: its queue id and the return path the MX saw. */
  sendThrough(to: string[], subject: string): Promise<{ id: string; returnPath: string }>;
}

const findAtMx = (mx: Receiver, subject: string) => eventually(() => mx.messages.find((m) => m.body.toString().includes(`Subject: ${subject}\r\n`)));

/**
 * createRig, then `provision` (e.g. the sending domain), the SMTP user alice, with adminKey an
 * operator API key, and the relay started.
 */
export async function startMailRig(t: Pick<test.TestContext, 'after'>, o: RigOptions & {
  provision?: (rig: Rig) => Promise<unknown>;
  adminKey?: boolean;
} = {}): Promise<MailRig> {
  const rig = await createRig(t, o);
  await o.provision?.(rig);
  await rig.ok('users', 'add', ALICE.user, '--password', ALICE.pass, '--domain', ALICE.domain);
  const key = o.adminKey ? await rig.out('keys', 'create', '--account', 'default', '--scope', 'admin') : '';
  await rig.relay.start();
  const submitter = new Submitter({ port: rig.relay.port('submission'), user: ALICE.user, pass: ALICE.pass });
  t.after(() => submitter.close());
  const received = (subject: string) => findAtMx(rig.mx, subject);
  const send = (to: string[], subject: string, headers = '') =>
    submitter.send(ALICE.address, to, `From: ${ALICE.address}\r\nTo: ${to.join(', ')}\r\nSubject: ${subject}\r\n${headers}\r\nHello\r\n`);
  const sendThrough = async (to: string[], subject: string) => {
    const reply = await send(to, subject);
    const id = queueIdOf(reply);
    assert.ok(id, reply);
    return { id, returnPath: (await received(subject)).mailFrom };
  };
  return { ...rig, submitter, key, api: apiAs(rig.relay, key), received, send, sendThrough };
}
