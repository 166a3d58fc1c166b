// Attack (twenty-ninth session, a hostile recipient domain): the _mta-sts TXT record is the
// recipient domain's, up to 64 KiB over TCP, and it is parsed on every delivery to the domain
// (MtaStsResolver.policyFor). Its fields were matched with /^\s*(key)=(.*?)\s*$/, which backtracks
// quadratically on a value of spaces not at the end: 60 KB took 3.8 s of the main thread, so a
// tenant queueing mail to such a domain stalled the relay (ingress included) for seconds a message.
// Now split by hand: linear, same fields.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStsRecord } from '../../src/delivery/mta-sts-policy.js';
import { createResolver } from '../../src/delivery/resolver.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';

describe('attack: a huge _mta-sts TXT record', () => {
  let dns: DnsServer;
  before(async () => {
    dns = await startDnsServer({ host: '127.0.72.1' });
    // one record of 240 character-strings: "v=STSv1; id=", then ~60 KB of spaces, then "x"
    dns.set('_mta-sts.slow.test', 'TXT', [['v=STSv1; id=', ...Array.from({ length: 238 }, () => ' '.repeat(250)), 'x']]);
    dns.set('_mta-sts.fine.test', 'TXT', [['v=STSv1; id=', '20261207T1;', ' '.repeat(200), 'ext=', ' '.repeat(250)]]);
  });
  after(async () => { await dns.close(); });

  it('is parsed in linear time, over a real DNS answer (TCP)', async () => {
    const resolver = createResolver({ servers: [{ host: dns.host, port: dns.port }], timeout: 2000 });
    const records = await resolver.resolveTxt('_mta-sts.slow.test');
    assert.ok(records[0]!.join('').length > 59_000, 'the whole record arrived');
    const started = performance.now();
    assert.equal(parseStsRecord(records), null, 'the id is not valid');
    const took = performance.now() - started;
    assert.ok(took < 50, `parsed in ${took.toFixed(1)} ms`);
    assert.deepEqual(parseStsRecord(await resolver.resolveTxt('_mta-sts.fine.test')), { id: '20261207T1' });
  });

  it('keeps the record grammar: white space around ";" and at the end, none before "="', () => {
    assert.deepEqual(parseStsRecord([['v=STSv1;  id=abc123 ;']]), { id: 'abc123' });
    assert.deepEqual(parseStsRecord([['v=STSv1; id=abc; id=def']]), { id: 'abc' });
    assert.equal(parseStsRecord([['v=STSv1; id =abc']]), null);
    assert.equal(parseStsRecord([['v=STSv1; id= abc']]), null);
    assert.equal(parseStsRecord([['v=STSv1; id=ab\nc']]), null);
  });
});
