// Attacker's pass (twenty-eighth session): a message whose first header line begins with a space or a
// tab. The relay writes its own Received field (after the DKIM-Signature prefix) just before the
// client's header block, so that line became a continuation of Postlane's Received field: any client,
// on the MX listener too, could append "from [203.0.113.9] by mx.trusted.example …" to the trace
// field this relay vouches for (RFC 5322 §2.2: a header block begins with a field name). Now refused
// like the other content problems: 550 5.6.0 after DATA or BDAT LAST (the session goes on), 422 on
// `message` over the raw API; nothing is queued. Raw sockets and HTTP against the built relay process.
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { RelayProcess } from '../helpers/relay-process.js';
import { call, seedAcme } from '../helpers/api-fixture.js';

/** A raw SMTP dialogue: send bytes, read one (possibly multi-line) reply. */
class Dialogue {
  #buf = '';
  #waiting: (() => void) | null = null;
  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => { this.#buf += d.toString('latin1'); this.#waiting?.(); });
    socket.on('error', () => { /* the test reads replies */ });
  }
  static async open(port: number): Promise<Dialogue> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const d = new Dialogue(socket);
    await d.reply();
    return d;
  }
  async reply(): Promise<string> {
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3} [^\n]*\n/.exec(this.#buf);
      if (m) { this.#buf = this.#buf.slice(m[0].length); return m[0].trimEnd().split('\r\n').at(-1)!; }
      await new Promise<void>((resolve) => { this.#waiting = resolve; });
    }
  }
  async say(bytes: string): Promise<string> { this.socket.write(Buffer.from(bytes, 'latin1')); return this.reply(); }
  close() { this.socket.destroy(); }
}

const FORGED = ' from [203.0.113.9] by mx.trusted.example with ESMTPS;\r\nFrom: a@acme.test\r\nSubject: trace\r\n\r\nbody\r\n';
const PLAIN = 'From: a@acme.test\r\nSubject: trace\r\n\r\nbody\r\n';

test('a header block that begins with a continuation line is refused on every path (it continued the relay\'s Received field)', { timeout: 60_000 }, async (t) => {
  // Nothing leaves the machine: the smarthost is a closed port, DNS a closed resolver.
  const relay = await RelayProcess.create({
    delivery: { smarthost: '127.0.0.1:9' }, dns: { servers: ['127.0.0.1:9'], timeout: '1s' },
    smtp: { relayNetworks: ['127.0.0.1/32'] }, localDomains: ['local.test'],
  });
  t.after(() => relay.cleanup());
  const acme = await seedAcme(relay);
  await relay.start();

  for (const [listener, rcpt] of [['submission', 'bob@dest.test'], ['mx', 'bob@local.test']] as const) {
    const c = await Dialogue.open(relay.port(listener));
    t.after(() => c.close());
    assert.match(await c.say('EHLO client.test\r\n'), /^250 /);
    for (const [how, message] of [['DATA', FORGED], ['DATA', `\t${FORGED.slice(1)}`], ['BDAT', FORGED]] as const) {
      assert.match(await c.say(`MAIL FROM:<a@acme.test>\r\nRCPT TO:<${rcpt}>\r\n`), /^250 /);
      await c.reply(); // RCPT
      const answer = how === 'DATA'
        ? (await c.say('DATA\r\n'), await c.say(`${message}.\r\n`))
        : await c.say(`BDAT ${message.length} LAST\r\n${message}`);
      assert.match(answer, /^550 5\.6\.0 /, `${listener} ${how} ${JSON.stringify(message.slice(0, 12))}: ${answer}`);
      assert.match(await c.say('NOOP\r\n'), /^250 /, 'the session goes on');
    }
    assert.match(await c.say(`MAIL FROM:<a@acme.test>\r\nRCPT TO:<${rcpt}>\r\nDATA\r\n`), /^250 /);
    await c.reply();
    assert.match(await c.reply(), /^354 /);
    assert.match(await c.say(`${PLAIN}.\r\n`), /^250 2\.0\.0 Ok: queued as /, `${listener}: the same message without the leading space`);
  }

  const base = `http://127.0.0.1:${relay.port('http')}`;
  const raw = (message: string) => call(base, 'POST', '/v1/messages/raw', { token: acme.tokens.app, body: { envelope: { from: 'app@acme.test', to: ['bob@dest.test'] }, message: message.replace('a@acme.test', 'app@acme.test') } });
  const refused = await raw(FORGED);
  assert.equal(refused.status, 422, refused.text);
  assert.deepEqual(refused.body.error.fields.map((f: { path: string }) => f.path), ['message']);
  assert.equal((await raw(PLAIN)).status, 202);
  await relay.waitForLog((l) => l.event === 'http.accepted'); // its log line may come after the answer
  assert.equal(relay.logs.filter((l) => l.event === 'smtp.accepted' || l.event === 'http.accepted').length, 3, 'only the three plain messages were queued');
});
