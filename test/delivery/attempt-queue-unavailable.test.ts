// SmtpAttempt when the queued message cannot be read because the queue store is unreachable:
// readMessage rejects with QueueUnavailableError (a body held in the store: nothing is sent), or a
// spool file's stream fails with it during DATA (the transaction is abandoned before its end of
// data). Either way the attempt says so (queueUnavailable) instead of blaming the host, and the
// receiving server records nothing. Another read error is still an ordinary host failure.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import { SmtpAttempt, type AttemptMessage } from '../../src/delivery/attempt.js';
import { ConnectionPool, type SessionTarget } from '../../src/delivery/connection-pool.js';
import { QueueUnavailableError } from '../../src/errors.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';

const config = loadConfig({ env: {}, overrides: { hostname: 'relay.test', 'delivery.connectTimeout': '3s', 'delivery.commandTimeout': '5s' } });
const message: AttemptMessage = { messageId: 'M1', mailFrom: 'a@sender.test', size: 100, recipients: ['x@example.test'] };
const target = (r: Receiver): SessionTarget => ({
  host: 'mx.example.test', address: r.host, port: r.port, auth: null,
  security: { level: 'opportunistic', source: 'opportunistic', names: ['mx.example.test'], tlsa: [] },
});

/** A spool file's stream that fails once DATA has started (after the transaction began). */
function failingBody(err: Error): Readable {
  const source = new Promise<Buffer>((_, reject) => setTimeout(() => reject(err), 20));
  source.catch(() => undefined);
  return Readable.from((async function* () { yield await source; })(), { objectMode: false });
}

describe('SmtpAttempt: queue store unavailable', () => {
  let mx: Receiver;
  before(async () => { mx = await startReceiver({ host: '127.0.0.2' }); });
  after(() => mx.close());

  const down = () => new QueueUnavailableError('queue bodySource failed: database unavailable');
  const unused = () => { throw new Error('not this read'); };
  for (const [how, store, size] of [
    ['readMessage rejects (a small message, read whole)', { readMessage: () => new Promise<never>((_, reject) => setTimeout(() => reject(down()), 20)), readBody: unused }, 100],
    ['readMessage gives a spool stream that fails during DATA', { readMessage: async () => failingBody(down()), readBody: unused }, 100],
    ['a large message\'s stream fails during DATA', { readMessage: unused, readBody: () => failingBody(down()) }, 300_000], // over attempt.ts's WHOLE_READ_MAX (256 KiB): streamed
  ] as const) {
    it(`reports queueUnavailable and delivers nothing: ${how}`, async () => {
      const pool = new ConnectionPool({ config });
      const attempt = new SmtpAttempt({ pool, store });
      const a = await attempt.run({ ...message, size }, target(mx));
      pool.closeAll();
      assert.equal((a.queueUnavailable as { code?: string } | undefined)?.code, 'ERR_QUEUE_UNAVAILABLE');
      assert.equal(a.hostFailure?.status, '4.3.0', 'no decision by the host');
      assert.deepEqual(a.recipients, []);
      assert.equal(mx.messages.length, 0);
    });
  }

  it('another body failure stays an ordinary host failure', async () => {
    const pool = new ConnectionPool({ config });
    const attempt = new SmtpAttempt({ pool, store: { readMessage: async () => failingBody(new Error('disk on fire')), readBody: () => failingBody(new Error('disk on fire')) } });
    const a = await attempt.run(message, target(mx));
    pool.closeAll();
    assert.equal(a.queueUnavailable, undefined);
    assert.equal(a.hostFailure?.status, '4.3.0');
    assert.equal(mx.messages.length, 0);
  });
});
