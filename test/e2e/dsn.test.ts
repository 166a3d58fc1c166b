// End to end: the SMTP DSN extension (RFC 3461 / RFC 3464). Python smtplib submits with
// mail_options/rcpt_options (RET, ENVID, NOTIFY, ORCPT); the built relay runs as a child process;
// one receiving MX advertises DSN (127.0.0.2: dsn.test, and example.com where the DSNs go), one does
// not (127.0.0.3: nodsn.test, stuck.test). The HTTP API's `dsn` field says the same as SMTP's parameters. The DSNs that come back are parsed by Python's email
// package (an independent reader of message/delivery-status) and checked field by field.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver, type ReceivedMessage } from '../helpers/smtp-receiver.js';
import { TOOLS, skipUnless, toolPath } from '../helpers/require-tool.js';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { openStore } from '../../src/store/open-store.js';
import { call, seedTenant, type Tenant } from '../helpers/api-fixture.js';

const PASSWORD = 'correct horse battery';
const skipPython = await skipUnless(TOOLS.python3);
const PYTHON3 = (await toolPath(TOOLS.python3)) ?? 'python3';
let dns: DnsServer;
let withDsn: Receiver;     // 127.0.0.2: advertises DSN
let withoutDsn: Receiver;  // 127.0.0.3: does not
let relay: RelayProcess;
let acme: Tenant;

before(async () => {
  dns = await startDnsServer();
  withDsn = await startReceiver({ host: '127.0.0.2', port: 0, dsn: true });
  withoutDsn = await startReceiver({
    host: '127.0.0.3', port: withDsn.port,
    behaviour: {
      rcpt: (addr: string) => {
        if (addr.startsWith('reject')) return { code: 550, message: '5.1.1 No such user here' };
        if (addr.endsWith('@stuck.test')) return { code: 450, message: '4.2.1 Mailbox busy' };
        return null;
      },
    },
  });
  dns.setZone({
    'dsn.test': { MX: [{ exchange: 'mx.dsn.test', priority: 10 }] },
    'example.com': { MX: [{ exchange: 'mx.dsn.test', priority: 10 }] },
    'acme.test': { MX: [{ exchange: 'mx.dsn.test', priority: 10 }] },
    'mx.dsn.test': { A: ['127.0.0.2'] },
    'nodsn.test': { MX: [{ exchange: 'mx.nodsn.test', priority: 10 }] },
    'stuck.test': { MX: [{ exchange: 'mx.nodsn.test', priority: 10 }] },
    'mx.nodsn.test': { A: ['127.0.0.3'] },
  });
  relay = await RelayProcess.create({
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: {
      port: withDsn.port, pollInterval: '200ms', connectTimeout: '3s', delayWarning: '1s',
      retrySchedule: { initial: '300ms', factor: 1, max: '300ms', jitter: 0 },
    },
  });
  const add = await relay.cli(['users', 'add', 'alice', '--domain', 'example.com'], PASSWORD + '\n');
  assert.equal(add.code, 0, add.stderr);
  const store = await openStore(loadConfig({ file: relay.configFile, env: {} }), pino({ level: 'silent' }), 'admin');
  await store.open();
  acme = await seedTenant(store, { account: 'acme', domains: ['acme.test'], keys: { app: ['send', 'read'] } });
  await store.close();
  await relay.start();
});

after(async () => {
  await relay?.cleanup();
  await Promise.all([withDsn?.close(), withoutDsn?.close(), dns?.close()]);
});

function python(script: string, args: string[], input?: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON3, ['-c', script, ...args], { timeout: 30_000, maxBuffer: 8 << 20 }, (err, out, e) => (err ? reject(new Error(`${err.message}\n${e}`)) : resolve(out)));
    child.stdin!.end(input ?? '');
  });
}

/** Submits each message in one session (STARTTLS + AUTH); prints one JSON line: DSN offered, and the replies to the probe RCPTs. */
const SUBMIT = `
import json, smtplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="py.test")
s.starttls(context=ctx); s.ehlo("py.test"); s.login("alice", sys.argv[2])
out = {"dsn": s.has_extn("dsn"), "probes": []}
for m in json.loads(sys.argv[3]):
    body = "From: alice@example.com\\r\\nTo: %s\\r\\nSubject: %s\\r\\nMessage-ID: <%s@client.test>\\r\\n\\r\\nbody of %s\\r\\n" % (m["to"], m["name"], m["name"], m["name"])
    s.sendmail("alice@example.com", [m["to"]], body, mail_options=m["mail"], rcpt_options=m["rcpt"])
for arg in json.loads(sys.argv[4]):
    s.rset(); s.mail("alice@example.com")
    out["probes"].append(list(s.rcpt("x@nodsn.test", [arg])))
    out["probes"][-1][1] = out["probes"][-1][1].decode()
s.quit()
print(json.dumps(out))
`;

/** Reads a DSN with Python's email package: its parts' types and the delivery-status blocks as field maps. */
const READ_DSN = `
import email, json, sys
from email import policy
msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.compat32)
parts = msg.get_payload()
status = parts[1].get_payload()
third = parts[2]
inner = third.get_payload()
print(json.dumps({
  "type": msg.get_content_type(), "reportType": msg.get_param("report-type"), "subject": msg["Subject"], "to": msg["To"],
  "parts": [p.get_content_type() for p in parts],
  "perMessage": dict((k.lower(), v) for k, v in status[0].items()),
  "recipients": [dict((k.lower(), v) for k, v in b.items()) for b in status[1:]],
  "returned": inner[0].as_string() if isinstance(inner, list) else inner,
}))
`;

interface ReadDsn {
  type: string; reportType: string; subject: string; to: string; parts: string[];
  perMessage: Record<string, string>; recipients: Record<string, string>[]; returned: string;
}
const readDsn = async (m: ReceivedMessage): Promise<ReadDsn> => JSON.parse(await python(READ_DSN, [], m.body)) as ReadDsn;
const dsnAbout = (name: string) => withDsn.messages.find((m) => m.mailFrom === '' && m.body.includes(`<${name}@client.test>`));
const show = async (id: string) => JSON.parse((await relay.cli(['queue', 'show', id, '--json'])).stdout) as {
  receivedAt: number; recipients: { state: string }[]; attempts: { at: number; status: string }[];
};

test('DSN end to end: parameters passed on to a next hop with DSN; relayed, failure and delay notices as NOTIFY asks', { skip: skipPython }, async () => {
  const tag = `${Date.now()}`;
  const messages = [
    // A: the next hop speaks DSN: everything passed on (xtext-encoded again), no notice from us.
    { name: `a${tag}`, to: 'u1@dsn.test', mail: ['RET=HDRS', 'ENVID=A+2B1'], rcpt: ['NOTIFY=SUCCESS,FAILURE', 'ORCPT=rfc822;orig+2BAB@example.org'] },
    // B: no DSN at the next hop, SUCCESS asked: a "relayed" notice.
    { name: `b${tag}`, to: 'u2@nodsn.test', mail: ['ENVID=B' + tag], rcpt: ['NOTIFY=SUCCESS', 'ORCPT=rfc822;b@example.org'] },
    // C: refused, RET=FULL: a failure notice with the whole message.
    { name: `c${tag}`, to: 'reject-c@nodsn.test', mail: ['RET=FULL', 'ENVID=C' + tag], rcpt: ['NOTIFY=FAILURE,DELAY', 'ORCPT=rfc822;c+2Bx@example.org'] },
    // D: refused, NOTIFY=NEVER: no notice at all (the recipient still ends bounced).
    { name: `d${tag}`, to: 'reject-d@nodsn.test', mail: [], rcpt: ['NOTIFY=NEVER'] },
    // E: refused, no DSN parameters: today's failure notice, headers only, no envelope id.
    { name: `e${tag}`, to: 'reject-e@nodsn.test', mail: [], rcpt: [] },
    // F: kept deferred past delayWarning, DELAY asked: a delay warning.
    { name: `f${tag}`, to: 'wait-f@stuck.test', mail: [], rcpt: ['NOTIFY=DELAY'] },
    // G: kept deferred, only FAILURE asked: no delay warning.
    { name: `g${tag}`, to: 'wait-g@stuck.test', mail: [], rcpt: ['NOTIFY=FAILURE'] },
    // H: delivered where the next hop speaks DSN, SUCCESS not asked: parameters passed as given.
    { name: `h${tag}`, to: 'u3@dsn.test', mail: [], rcpt: ['NOTIFY=NEVER'] },
  ];
  const probes = ['NOTIFY=NEVER,SUCCESS', 'NOTIFY=SOMETIMES', 'ORCPT=a@b.example', 'ORCPT=rfc822;a+ZZ'];
  const out = JSON.parse(await python(SUBMIT, [String(relay.port('submission')), PASSWORD, JSON.stringify(messages), JSON.stringify(probes)])) as
    { dsn: boolean; probes: [number, string][] };
  assert.equal(out.dsn, true, 'DSN is in the EHLO list');
  for (const [code, text] of out.probes) {
    assert.equal(code, 501);
    assert.match(text, /^5\.5\.4 /);
  }
  const ids = new Map<string, string>();
  const idOf = async (name: string) => {
    if (!ids.has(name)) {
      const rows = JSON.parse((await relay.cli(['queue', 'list', '--all', '--json'])).stdout) as { messageId: string; address: string; mailFrom: string }[];
      for (const m of messages) {
        const row = rows.find((r) => r.address === m.to && r.mailFrom === 'alice@example.com');
        if (row) ids.set(m.name, row.messageId);
      }
    }
    return ids.get(name)!;
  };

  // A: at the DSN-capable next hop, as the client gave them.
  const a = await eventually(() => withDsn.messages.find((m) => m.rcptTo.includes('u1@dsn.test')));
  assert.deepEqual(a.dsn, { ret: 'HDRS', envid: 'A+1', rcpt: [{ notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;orig+AB@example.org' }] });
  const h = await eventually(() => withDsn.messages.find((m) => m.rcptTo.includes('u3@dsn.test')));
  assert.deepEqual(h.dsn, { rcpt: [{ notify: ['NEVER'] }] });
  // B, C, D, E reached the one without DSN without the parameters (it would refuse them).
  await eventually(() => withoutDsn.messages.find((m) => m.rcptTo.includes('u2@nodsn.test')));

  // B: relayed.
  const b = await readDsn(await eventually(() => dsnAbout(`b${tag}`)));
  assert.equal(b.type, 'multipart/report');
  assert.equal(b.reportType, 'delivery-status');
  assert.equal(b.subject, 'Successful Mail Delivery Report');
  assert.equal(b.to, '<alice@example.com>');
  assert.deepEqual(b.parts, ['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
  assert.equal(b.perMessage['original-envelope-id'], `B${tag}`);
  assert.equal(b.perMessage['reporting-mta'], 'dns; relay.test');
  assert.equal(b.recipients.length, 1);
  assert.equal(b.recipients[0]!['original-recipient'], 'rfc822; b@example.org');
  assert.equal(b.recipients[0]!['final-recipient'], 'rfc822; u2@nodsn.test');
  assert.equal(b.recipients[0]!['action'], 'relayed');
  assert.equal(b.recipients[0]!['status'], '2.0.0');
  assert.equal(b.recipients[0]!['remote-mta'], 'dns; mx.nodsn.test');
  assert.match(b.returned, new RegExp(`Message-ID: <b${tag}@client.test>`));
  assert.doesNotMatch(b.returned, /body of/, 'a success notice returns the headers only');

  // C: failed, the whole message returned.
  const c = await readDsn(await eventually(() => dsnAbout(`c${tag}`)));
  assert.equal(c.subject, 'Undelivered Mail Returned to Sender');
  assert.deepEqual(c.parts, ['text/plain', 'message/delivery-status', 'message/rfc822']);
  assert.equal(c.perMessage['original-envelope-id'], `C${tag}`);
  assert.equal(c.recipients[0]!['original-recipient'], 'rfc822; c+x@example.org');
  assert.equal(c.recipients[0]!['final-recipient'], 'rfc822; reject-c@nodsn.test');
  assert.equal(c.recipients[0]!['action'], 'failed');
  assert.equal(c.recipients[0]!['status'], '5.1.1');
  assert.match(c.recipients[0]!['diagnostic-code']!, /^smtp; 550 5\.1\.1 No such user here/);
  assert.match(c.returned, new RegExp(`Message-ID: <c${tag}@client.test>`));
  assert.match(c.returned, new RegExp(`body of c${tag}`), 'RET=FULL: the body comes back');

  // E: failed, headers only, no envelope id, no Original-Recipient.
  const e = await readDsn(await eventually(() => dsnAbout(`e${tag}`)));
  assert.deepEqual(e.parts, ['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
  assert.equal(e.perMessage['original-envelope-id'], undefined);
  assert.equal(e.recipients[0]!['original-recipient'], undefined);
  assert.equal(e.recipients[0]!['action'], 'failed');
  assert.doesNotMatch(e.returned, /body of/);

  // F: a delay warning.
  const f = await readDsn(await eventually(() => dsnAbout(`f${tag}`), 30_000));
  assert.equal(f.subject, 'Delayed Mail (still being retried)');
  assert.equal(f.recipients[0]!['action'], 'delayed');
  assert.equal(f.recipients[0]!['status'], '4.2.1');
  assert.ok(f.recipients[0]!['will-retry-until']);

  // A and D final, G tried twice after delayWarning: a notice would have been stored with those results.
  // Each step runs the CLI (a process): generous limits for a loaded machine.
  await eventually(async () => (await show(await idOf(`a${tag}`))).recipients[0]!.state === 'delivered', 60_000);
  await eventually(async () => (await show(await idOf(`d${tag}`))).recipients[0]!.state === 'bounced', 60_000);
  await eventually(async () => { const g = await show(await idOf(`g${tag}`)); return g.attempts.filter((x) => x.at - g.receivedAt >= 1000).length >= 2; }, 60_000);
  const rows = JSON.parse((await relay.cli(['queue', 'list', '--all', '--json'])).stdout) as { messageId: string; mailFrom: string; address: string }[];
  const notices = rows.filter((r) => r.mailFrom === '' && r.address === 'alice@example.com');
  assert.equal(notices.length, 4, 'notices for B, C, E and F only: none for A (next hop speaks DSN), D (NEVER), G (no DELAY)');
  for (const name of [`g${tag}`, `f${tag}`]) assert.equal((await relay.cli(['queue', 'delete', await idOf(name)])).code, 0);
});

test('DSN over the HTTP API: the dsn field (ret, envid, notify, orcpt) is passed on, honoured, and checked', async () => {
  const base = `http://127.0.0.1:${relay.port('http')}`;
  const tag = `${Date.now()}`;
  const send = (to: string, name: string, dsn: unknown) => call(base, 'POST', '/v1/messages', {
    token: acme.tokens.app,
    body: { from: 'support@acme.test', to: [to], subject: name, text: `body of ${name}`, headers: { 'X-Case': name }, dsn },
  });
  const passed = await send('u5@dsn.test', `p${tag}`, { ret: 'headers', envid: `api+${tag}`, notify: ['success', 'failure'], orcpt: { 'U5@DSN.test': 'first+x@acme.test' } });
  assert.equal(passed.status, 202, passed.text);
  const atHop = await eventually(() => withDsn.messages.find((m) => m.rcptTo.includes('u5@dsn.test')));
  assert.deepEqual(atHop.dsn, { ret: 'HDRS', envid: `api+${tag}`, rcpt: [{ notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;first+x@acme.test' }] });

  const failed = await send('reject-api@nodsn.test', `q${tag}`, { ret: 'full', envid: `Q${tag}`, orcpt: { 'reject-api@nodsn.test': 'orig@acme.test' } });
  assert.equal(failed.status, 202, failed.text);
  const notice = await eventually(() => withDsn.messages.find((m) => m.mailFrom === '' && m.body.includes(`X-Case: q${tag}`)));
  assert.deepEqual(notice.rcptTo, ['support@acme.test']);
  const q = await readDsn(notice);
  assert.deepEqual(q.parts, ['text/plain', 'message/delivery-status', 'message/rfc822']);
  assert.equal(q.perMessage['original-envelope-id'], `Q${tag}`);
  assert.equal(q.recipients[0]!['original-recipient'], 'rfc822; orig@acme.test');
  assert.equal(q.recipients[0]!['final-recipient'], 'rfc822; reject-api@nodsn.test');
  assert.equal(q.recipients[0]!['action'], 'failed');
  assert.match(q.returned, new RegExp(`body of q${tag}`));

  for (const [dsn, path] of [
    [{ notify: ['never', 'success'] }, 'dsn.notify'], [{ notify: ['failure', 'failure'] }, 'dsn.notify'],
    [{ orcpt: { 'someone@else.test': 'a@acme.test' } }, 'dsn.orcpt.someone@else.test'],
  ] as const) {
    const bad = await send('u6@dsn.test', `r${tag}`, dsn);
    assert.equal(bad.status, 422, bad.text);
    assert.ok(JSON.stringify(bad.body).includes(path), bad.text);
  }
  const badRet = await send('u6@dsn.test', `r${tag}`, { ret: 'body' });
  assert.equal(badRet.status, 422, badRet.text);
});

test('DSN for local delivery: NOTIFY=SUCCESS on the mx listener gets a "delivered" notice', { skip: skipPython }, async () => {
  const tag = `${Date.now()}`;
  const script = `
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="far.example")
s.sendmail("ext@example.com", ["postmaster@relay.test"], "From: ext@example.com\\r\\nSubject: l${tag}\\r\\nMessage-ID: <l${tag}@client.test>\\r\\n\\r\\nhello\\r\\n",
           mail_options=["ENVID=L${tag}"], rcpt_options=["NOTIFY=SUCCESS", "ORCPT=rfc822;pm+2Bx@relay.test"])
s.quit()
`;
  await python(script, [String(relay.port('mx'))]);
  const notice = await eventually(() => dsnAbout(`l${tag}`));
  assert.deepEqual(notice.rcptTo, ['ext@example.com']);
  const l = await readDsn(notice);
  assert.equal(l.subject, 'Successful Mail Delivery Report');
  assert.equal(l.perMessage['original-envelope-id'], `L${tag}`);
  assert.equal(l.recipients[0]!['original-recipient'], 'rfc822; pm+x@relay.test');
  assert.equal(l.recipients[0]!['final-recipient'], 'rfc822; postmaster@relay.test');
  assert.equal(l.recipients[0]!['action'], 'delivered');
  assert.equal(l.recipients[0]!['status'], '2.0.0');
  assert.deepEqual(l.parts, ['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
});

test('DSN: each recipient of one transaction keeps its own NOTIFY and ORCPT at the next hop', { skip: skipPython }, async () => {
  const tag = `${Date.now()}`;
  const script = `
import smtplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="py.test")
s.starttls(context=ctx); s.ehlo("py.test"); s.login("alice", sys.argv[2])
assert s.mail("alice@example.com", ["RET=FULL", "ENVID=M${tag}"])[0] == 250
assert s.rcpt("u7@dsn.test", ["NOTIFY=SUCCESS", "ORCPT=rfc822;seven+2B7@example.org"])[0] == 250
assert s.rcpt("u8@dsn.test", ["NOTIFY=NEVER"])[0] == 250
assert s.rcpt("u9@dsn.test")[0] == 250
assert s.rcpt("u10@dsn.test", ["ORCPT=utf-8;j+5Cx{E9}@example.org"])[0] == 250
assert s.data("From: alice@example.com\\r\\nSubject: m${tag}\\r\\n\\r\\nm${tag}\\r\\n")[0] == 250
s.quit()
`;
  await python(script, [String(relay.port('submission')), PASSWORD]);
  const got = await eventually(() => withDsn.messages.find((m) => m.body.includes(`Subject: m${tag}`)));
  assert.deepEqual(got.rcptTo, ['u7@dsn.test', 'u8@dsn.test', 'u9@dsn.test', 'u10@dsn.test'], 'one transaction');
  assert.deepEqual(got.dsn, {
    ret: 'FULL', envid: `M${tag}`,
    rcpt: [{ notify: ['SUCCESS'], orcpt: 'rfc822;seven+7@example.org' }, { notify: ['NEVER'] }, {}, { orcpt: 'utf-8;j\\x{E9}@example.org' }],
  });
});
