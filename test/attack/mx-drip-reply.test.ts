// Attack (twenty-ninth session, a hostile recipient domain): an MX that drips its reply (a byte,
// or a "250-" continuation line, every 200 ms) is never silent, so nodemailer's socketTimeout
// (delivery.commandTimeout: idle time) never fired, and its 1 MiB reply limit took days to reach:
// the attempt, its connection and a delivery slot were held for as long as the MX liked (a tenant
// sending to a few such domains could hold every slot of delivery.concurrency). Now a reply begun
// must be complete within commandTimeout (smtp-connection.ts): the attempt fails ETIMEDOUT, a
// temporary host failure (the message is retried), in about commandTimeout.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import { SmtpAttempt, type AttemptMessage } from '../../src/delivery/attempt.js';
import { ConnectionPool, type SessionTarget } from '../../src/delivery/connection-pool.js';
import { greetAndEhlo, startHostileMx, type HostileMx, type HostileSession } from './hostile-mx.js';

const BODY = Buffer.from('Subject: hi\r\n\r\nbody\r\n');
const store = { readMessage: async () => Buffer.from(BODY), readBody: () => Readable.from([BODY]) };
const COMMAND_TIMEOUT_MS = 1000;
const config = loadConfig({ env: {}, overrides: { hostname: 'relay.test', 'delivery.connectTimeout': '2s', 'delivery.commandTimeout': `${COMMAND_TIMEOUT_MS}ms` } });
const message: AttemptMessage = { messageId: 'M1', mailFrom: 'a@sender.test', size: BODY.length, recipients: ['b@drip.test'] };
const target = (mx: HostileMx): SessionTarget => ({
  host: 'mx.drip.test', address: mx.host, port: mx.port, auth: null,
  security: { level: 'none', source: 'policy', names: ['mx.drip.test'], tlsa: [] },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes `text` a byte every `ms` until the socket closes. */
async function drip(s: HostileSession, text: string, ms = 200): Promise<void> {
  for (let i = 0; !s.socket.destroyed; i = (i + 1) % text.length) { s.write(text[i]!); await sleep(ms); }
}

describe('attack: an MX that drips its replies', () => {
  const servers: HostileMx[] = [];
  let ehloDrip: HostileMx;
  let continuationDrip: HostileMx;
  let dataDrip: HostileMx;

  before(async () => {
    // The EHLO reply, a byte at a time, never ending ("250-" forever).
    ehloDrip = await startHostileMx('127.0.72.11', async (s) => {
      s.write('220 drip.test ESMTP\r\n');
      if (await s.line() === null) return;
      await drip(s, '250-hostile.test\r\n');
    });
    // Whole "250-" lines every 200 ms: each chunk ends a line, the reply never ends.
    continuationDrip = await startHostileMx('127.0.72.12', async (s) => {
      s.write('220 drip.test ESMTP\r\n');
      if (await s.line() === null) return;
      for (let i = 0; !s.socket.destroyed; i++) { s.write(`250-LINE${i}\r\n`); await sleep(200); }
    });
    // A normal transaction up to the end of data, whose reply is then dripped.
    dataDrip = await startHostileMx('127.0.72.13', async (s) => {
      if (!await greetAndEhlo(s, ['8BITMIME'])) return;
      for (let l = await s.line(); l !== null; l = await s.line()) {
        if (l.startsWith('MAIL') || l.startsWith('RCPT')) s.write('250 ok\r\n');
        else if (l === 'DATA') s.write('354 go\r\n');
        else if (l === '.') return drip(s, '250 2.0.0 queued as 1234\r\n'.slice(0, 10)); // never the CRLF
      }
    });
    servers.push(ehloDrip, continuationDrip, dataDrip);
  });
  after(async () => { await Promise.all(servers.map((s) => s.close())); });

  for (const [name, mx] of [['a byte at a time (EHLO)', () => ehloDrip], ['"250-" lines (EHLO)', () => continuationDrip], ['the reply to the end of data', () => dataDrip]] as const) {
    it(`${name}: the attempt ends in about commandTimeout, a temporary failure`, async () => {
      const pool = new ConnectionPool({ config });
      const attempt = new SmtpAttempt({ pool, store });
      const started = Date.now();
      const a = await attempt.run(message, target(mx()));
      const took = Date.now() - started;
      pool.closeAll();
      assert.ok(a.hostFailure, 'the host failed');
      assert.equal(a.hostFailure.kind, 'temporary');
      assert.match(a.hostFailure.status, /^4\./);
      assert.ok(took >= COMMAND_TIMEOUT_MS - 100 && took < COMMAND_TIMEOUT_MS + 1500, `ended after ${took} ms`);
      await pool.drain(2000);
    });
  }
});
