// Fuzz target: the SMTP session state machine (src/ingress/smtp/session.ts) driven like
// connection.ts drives it — command lines split at LF, DATA bytes through the DATA reader, its
// actions (STARTTLS, AUTH checks, quota charges, DATA) answered with outcomes chosen by the input.
// Properties: never throws; every reply is well formed on the wire (3-digit code, enhanced code
// of the same class, CRLF-terminated lines of at most 512 octets, no CR or LF inside); MAIL is
// accepted only after HELO/EHLO and, on the submission listeners, only after AUTH (or from a
// trusted network); AUTH is only offered and verified over TLS; DATA is accepted only with at
// least one recipient, and the transaction handed over names exactly the accepted recipients,
// well formed, ASCII unless SMTPUTF8, local on mx.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatReply, type Reply } from '../../../src/message/reply.js';
import { parseMailbox } from '../../../src/message/address.js';
import { DataReader } from '../../../src/ingress/smtp/data-reader.js';
import { SmtpSession, MAX_AUTH_LINE, type ListenerName, type SessionOutput, type AuthOutcome, type SessionAction, type Transaction } from '../../../src/ingress/smtp/session.js';
import { corpusOf } from '../corpus.js';
import type { FuzzTarget, Rng } from '../harness.js';

interface Input { listener: ListenerName; trustedNetwork: boolean; quotas: boolean; bytes: Buffer; choices: number[] }

const LOCAL = new Set(['relay.test', 'bounces.relay.test']);
const AUTH: AuthOutcome[] = ['ok', 'ok', 'failed', 'locked', 'error'];

function checkReply(r: Reply, esmtp: boolean): void {
  assert.ok(Number.isInteger(r.code) && r.code >= 200 && r.code <= 599, `code ${r.code}`);
  if (r.enhanced !== undefined) {
    assert.match(r.enhanced, /^[245]\.\d{1,3}\.\d{1,3}$/, 'enhanced code');
    assert.equal(r.enhanced[0], String(r.code)[0], 'enhanced code of the same class');
  }
  if (!esmtp) assert.equal(r.enhanced, undefined, 'no enhanced code before EHLO');
  const wire = formatReply(r);
  assert.ok(wire.endsWith('\r\n'));
  for (const line of wire.slice(0, -2).split('\r\n')) {
    assert.match(line, /^\d{3}[ -]/, 'each line starts with the code');
    assert.ok(Buffer.byteLength(line) + 2 <= 512, `reply line of ${Buffer.byteLength(line) + 2} octets`);
    assert.ok(!/[\r\n\0]/.test(line), 'no CR, LF or NUL inside a reply line');
  }
}

/** Plays the client's bytes against a session; asserts the protocol properties as it goes. */
export function checkSession(input: Input): void {
  const s = new SmtpSession({
    listener: input.listener, hostname: 'relay.test', banner: 'Postlane ESMTP', localDomains: LOCAL, bounceLabel: null,
    maxMessageSize: 2000, maxRecipients: 5, maxBadCommands: 20, tls: input.listener === 'submissions' ? { protocol: 'TLSv1.3', cipher: 'x' } : null,
    trustedNetwork: input.trustedNetwork, quotas: input.quotas,
  });
  let choice = 0;
  const choose = (n: number) => (input.choices[choice++ % Math.max(1, input.choices.length)] ?? 0) % n;
  let tls = input.listener === 'submissions';
  let helo = false;
  let esmtp = false;
  let authed = false;
  let mailOk = false;
  let accepted: string[] = [];
  let verb = '';
  let buf = input.bytes;

  const handle = (out: SessionOutput): boolean => {
    let o: SessionOutput | null = out;
    while (o) {
      for (const r of o.replies) checkReply(r, esmtp || (verb === 'EHLO' && r.code === 250));
      const first = o.replies[0];
      if (first && verb === 'EHLO' && first.code === 250) { helo = true; esmtp = true; mailOk = false; accepted = []; }
      if (first && verb === 'HELO' && first.code === 250) { helo = true; esmtp = false; mailOk = false; accepted = []; }
      if (first && verb === 'RSET' && first.code === 250) { mailOk = false; accepted = []; }
      if (first && verb === 'MAIL' && first.code === 250) {
        assert.ok(helo, 'MAIL accepted before HELO/EHLO');
        assert.ok(input.listener === 'mx' || authed || input.trustedNetwork, 'MAIL accepted on a submission listener without AUTH');
        mailOk = true; accepted = [];
      }
      if (first && verb === 'RCPT' && first.code === 250) assert.ok(mailOk, 'RCPT accepted without MAIL');
      if (first?.code === 354) assert.ok(mailOk && accepted.length > 0, 'DATA accepted without recipients');
      if (o.close) { assert.equal(s.isClosed, true); return false; }
      const a: SessionAction | undefined = o.action;
      if (!a) return true;
      if (a.type === 'startTls') {
        assert.ok(!tls && input.listener !== 'submissions', 'STARTTLS twice');
        tls = true; helo = false; esmtp = false; authed = false; mailOk = false; accepted = [];
        // The listener drops bytes pipelined before the handshake; here the rest is what the client sends after it.
        o = s.tlsStarted({ protocol: 'TLSv1.3', cipher: 'x' });
      } else if (a.type === 'verifyAuth') {
        assert.ok(tls && input.listener !== 'mx', 'AUTH verified without TLS or on mx');
        const outcome = AUTH[choose(AUTH.length)]!;
        if (outcome === 'ok') authed = true;
        o = s.authVerified(outcome, outcome === 'ok' && choose(2) ? { allowedDomains: ['example.com'], anyDomain: false } : null);
      } else if (a.type === 'chargeQuota') {
        const ok = choose(3) > 0;
        if (ok) accepted.push(a.recipient);
        o = s.quotaCharged(ok ? { ok: true } : { ok: false, reply: { code: 452, enhanced: '4.7.1', text: 'Quota exceeded' } });
      } else if (a.type === 'receiveChunk') {
        // BDAT: exactly `size` octets, whatever they hold; the LAST chunk of a stored message is its acceptance.
        if (a.transaction) assert.ok(a.transaction.recipients.length > 0 && mailOk, 'BDAT stored without recipients');
        if (buf.length < a.size) return false; // the client went away mid-chunk
        buf = buf.subarray(a.size);
        o = s.chunkReceived(a.last && a.sink !== 'discard' ? { queuedAs: `Q${choice}` } : 'ok');
        if (a.last) { mailOk = false; accepted = []; }
      } else {
        const t: Transaction = a.transaction;
        assert.ok(t.recipients.length > 0 && t.recipients.length <= 5, 'recipients');
        assert.deepEqual([...t.recipients].sort(), [...new Set(accepted)].sort(), 'the transaction names exactly the accepted recipients');
        for (const addr of [t.mailFrom, ...t.recipients].filter((x) => x !== '')) {
          const m = parseMailbox(addr);
          assert.ok(m && m.address === addr, `well-formed address ${JSON.stringify(addr)}`);
          if (!t.smtputf8) assert.ok(!m.isUtf8, 'non-ASCII address without SMTPUTF8');
          if (input.listener === 'mx' && addr !== t.mailFrom) assert.ok(LOCAL.has(m.domain), `mx relays to ${addr}`);
        }
        const reader = new DataReader({ maxMessageSize: 2000, maxLineLength: 1000 });
        const r = reader.push(buf);
        buf = Buffer.alloc(0);
        if (r.kind === 'more') return false; // the client went away mid-DATA
        if (r.kind === 'invalid') { o = s.dataFinished({ reply: { code: 550, enhanced: '5.5.2', text: 'Bare CR or LF', close: true } }); }
        else { buf = r.rest; o = s.dataFinished(r.problem ? { reply: { code: 552, enhanced: '5.3.4', text: 'Message too big' } } : { queuedAs: `Q${choice}` }); }
        mailOk = false; accepted = [];
      }
      verb = '';
    }
    return true;
  };

  if (!handle(s.greet())) return;
  for (let n = 0; n < 400; n++) {
    const lf = buf.indexOf(0x0a);
    if (lf < 0) return;
    const line = buf.subarray(0, lf > 0 && buf[lf - 1] === 0x0d ? lf - 1 : lf);
    buf = buf.subarray(lf + 1);
    verb = line.subarray(0, 9).toString('latin1').split(' ')[0]!.toUpperCase();
    const out = line.length > MAX_AUTH_LINE + 2 ? s.lineTooLong() : s.handleLine(line);
    if (verb === 'RCPT') {
      const r = out.replies[0];
      if (r?.code === 250 && !out.action) {
        const addr = /^RCPT TO:\s*<([^]*?)>/i.exec(line.toString('utf8'))?.[1];
        if (addr !== undefined) accepted.push(acceptedAddress(addr));
      }
    }
    if (!handle(out)) return;
  }
}

/** The address the session records for an accepted RCPT (domain lower-cased; <postmaster> gets the hostname). */
function acceptedAddress(path: string): string {
  const inner = path.replace(/^@[^:]*:/, '');
  if (/^postmaster$/i.test(inner)) return 'postmaster@relay.test';
  return parseMailbox(inner)?.address ?? inner;
}

// ---- Inputs: dialogues of plausible and hostile command lines ----
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const addr = fc.constantFrom('<alice@example.com>', '<bob@relay.test>', '<Postmaster>', '<用户@relay.test>', '<a@elsewhere.example>', '<>', '<a%b@relay.test>',
  '<@hop.example:x@relay.test>', '<"q"@relay.test>', '<x@[192.0.2.1]>', '<bob@RELAY.test>', '<a@b', 'x@y', '<a@[IPv6:fe80::1%eth0]>');
const command = fc.oneof(
  fc.constantFrom('EHLO client.example', 'HELO client.example', 'EHLO', 'EHLO bad name!', 'STARTTLS', 'STARTTLS x', `AUTH PLAIN ${b64('\0alice\0secret')}`, 'AUTH PLAIN',
    'AUTH LOGIN', b64('alice'), b64('secret'), '*', '=', 'AUTH PLAIN ====', `AUTH PLAIN ${b64('bob\0alice\0x')}`, 'AUTH CRAM-MD5', 'DATA', 'DATA x', 'RSET', 'NOOP', 'QUIT',
    'VRFY bob', 'VRFY', 'HELP', 'BDAT 10', 'GET / HTTP/1.1', 'EXPN list', '', ' ', 'MAIL', 'RCPT', 'mail from:<a@b.example>'),
  fc.tuple(fc.constantFrom('MAIL FROM:', 'mail from: ', 'RCPT TO:', 'rcpt to:'), addr, fc.constantFrom('', ' SMTPUTF8', ' SIZE=100', ' SIZE=99999', ' BODY=8BITMIME', ' X=1', ' SIZE=1 SIZE=2'))
    .map((p) => p.join('')),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('x'.repeat(600), 'AUTH PLAIN ' + 'A'.repeat(3000), 'NOOP\0', '\xff\xfe', 'MAIL FROM:<a@b.example>\rRCPT TO:<c@d.example>'),
);
const dataBody = fc.constantFrom('Subject: x\r\n\r\nhi\r\n.\r\n', '..\r\n.\r\n', 'a\n.\n', 'x\r\n.\rMAIL FROM:<e@vil>\r\n.\r\n', `${'y'.repeat(1200)}\r\n.\r\n`, '.\r\n', 'no end');
const anyStep = fc.oneof({ weight: 6, arbitrary: command.map((c) => `${c}\r\n`) }, { weight: 1, arbitrary: dataBody }, { weight: 1, arbitrary: command.map((c) => `${c}\n`) });
/** A well-ordered transaction (optionally twice), then edited: steps dropped, inserted, repeated. */
const script = fc.tuple(fc.constantFrom('EHLO client.example', 'HELO client.example'), fc.boolean(), fc.constantFrom(`AUTH PLAIN ${b64('\0alice\0secret')}`, `AUTH LOGIN\r\n${b64('alice')}\r\n${b64('pw')}`, ''),
  fc.tuple(fc.constantFrom('MAIL FROM:', 'MAIL FROM:'), addr, fc.constantFrom('', ' SMTPUTF8', ' BODY=8BITMIME', ' SIZE=10')).map((p) => p.join('')),
  fc.array(fc.tuple(fc.constant('RCPT TO:'), addr).map((p) => p.join('')), { minLength: 1, maxLength: 7 }), dataBody, fc.boolean())
  .map(([hello, tls, auth, mail, rcpts, body, twice]) => {
    const tx = [mail, ...rcpts, 'DATA'].map((c) => `${c}\r\n`).concat(body);
    return [`${hello}\r\n`, ...(tls ? ['STARTTLS\r\n', `${hello}\r\n`] : []), ...(auth ? [`${auth}\r\n`] : []), ...tx, ...(twice ? ['RSET\r\n', ...tx] : []), 'QUIT\r\n'];
  });
const edits = fc.array(fc.tuple(fc.constantFrom('drop', 'insert', 'repeat'), fc.nat(), anyStep), { maxLength: 4 });
const dialogue = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(script, edits).map(([steps, ops]) => {
    const out = [...steps];
    for (const [op, at, step] of ops) {
      const i = at % (out.length + 1);
      if (op === 'drop') out.splice(i, 1); else if (op === 'insert') out.splice(i, 0, step); else if (out[i] !== undefined) out.splice(i, 0, out[i]!);
    }
    return out;
  }) },
  { weight: 1, arbitrary: fc.array(anyStep, { maxLength: 40 }) },
).map((parts) => Buffer.from(parts.join(''), 'utf8'));

export const sessionTarget: FuzzTarget<Input> = {
  name: 'session',
  arbitrary: fc.record({
    listener: fc.constantFrom<ListenerName>('submission', 'submissions', 'alt', 'mx'), trustedNetwork: fc.boolean(), quotas: fc.boolean(),
    bytes: dialogue, choices: fc.array(fc.nat(100), { maxLength: 10 }),
  }),
  corpus: () => corpusOf('fuzz/smtp'),
  fromBytes: (bytes: Buffer, rng: Rng): Input => ({
    listener: rng.pick<ListenerName>(['submission', 'submissions', 'alt', 'mx']), trustedNetwork: rng.next() < 0.3, quotas: rng.next() < 0.5,
    bytes, choices: Array.from({ length: 6 }, () => rng.int(100)),
  }),
  check: checkSession,
  tokens: ['\r\n', '\n', 'EHLO x\r\n', 'STARTTLS\r\n', 'MAIL FROM:<a@b.example>\r\n', 'RCPT TO:<x@relay.test>\r\n', 'DATA\r\n', '\r\n.\r\n', 'RSET\r\n', 'AUTH PLAIN ', '<', '>', '@', 'SMTPUTF8'],
  show: (i) => JSON.stringify({ ...i, bytes: i.bytes.toString('latin1') }),
};
