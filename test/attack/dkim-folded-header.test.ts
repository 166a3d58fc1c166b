// Attacker's pass (a hostile message fed to the DKIM signer): an authenticated user submits a
// message whose Subject is folded 120,000 times (a 480 KB header block, under the 1 MiB header cap).
// mailauth's header parser, which the signer drove, grows a folded field by copying the lines
// gathered so far once per line: about a minute of the relay's one event loop at 64,000 lines and
// far more here, for every session and delivery alike. The signer now splits and parses the header
// block in linear time (dkim-sign.ts parseHeaderBlock): the message is accepted, signed and
// delivered, and both signatures verify with python3-dkim. The test's timeout is the liveness
// bound (the quadratic parse does not finish within it); nothing here measures speed. The linear
// parser answers the same fields as mailauth's on folded, odd and unterminated header blocks.
import test from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/relay-process.js';
import { startMailRig } from '../helpers/relay-rig.js';
import { pythonVerify } from '../helpers/python-dkim.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';
import type { ParsedHeader, ParsedHeaders } from 'mailauth/lib/dkim/message-parser.js';
import { parseHeaderBlock } from '../../src/domains/dkim-sign.js';

const skip = await skipUnless(TOOLS.pythonDkim);
const FOLDS = 120_000;

test('a header folded 120,000 times is signed and delivered, not a stalled relay', { skip, timeout: 120_000 }, async (t) => {
  const { dns, mx, submitter } = await startMailRig(t, { provision: (r) => r.relay.addSigningDomain(r.dns, 'acme.test') });
  const message = 'From: alice@acme.test\r\nTo: bob@dest.test\r\nSubject: folded\r\n' + ' x\r\n'.repeat(FOLDS) + '\r\nthe body\r\n';
  assert.match(await submitter.send('alice@acme.test', ['bob@dest.test'], message), /^250 /);

  const got = await eventually(() => mx.messages.find((m) => m.body.includes('the body')));
  const head = got.body.toString('latin1', 0, 2000);
  assert.match(head, /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=acme\.test;/);
  assert.match(head, /DKIM-Signature: v=1; a=ed25519-sha256;/);
  // Signed at all is not enough: the same header's signature verifies where a verifier copes with
  // it (python3-dkim gives up on 120,000 lines), so a shorter fold is checked by it end to end.
  const short = 'From: alice@acme.test\r\nTo: bob@dest.test\r\nSubject: folded\r\n' + ' y\r\n'.repeat(2000) + '\r\nshort fold\r\n';
  assert.match(await submitter.send('alice@acme.test', ['bob@dest.test'], short), /^250 /);
  const shortGot = await eventually(() => mx.messages.find((m) => m.body.includes('short fold')));
  assert.deepEqual(await pythonVerify(dns.port, shortGot.body, 2), ['pass', 'pass'], 'python3-dkim verifies both signatures');
});

test('parseHeaderBlock gives mailauth\'s parseHeaders fields', async () => {
  const { parseHeaders } = await import('mailauth/lib/tools.js' as string) as { parseHeaders: (b: Buffer) => ParsedHeaders };
  const blocks = [
    'From: a@b.test\r\nSubject: x\r\n' + ' y\r\n'.repeat(3000) + '\r\n',
    ' leading: space first\r\nno colon here\r\n\tfolded by tab\r\nX-A:  v \r\n\r\n\r\n',
    'A: 1\nB: 2\r\n c\n\n',
    'Only-Header: no end',
    'K\xe9y: v\xa0\r\n\xa0cont\r\n',
  ];
  for (const block of blocks) {
    const buf = Buffer.from(block, 'latin1');
    const mine = parseHeaderBlock(buf), theirs = parseHeaders(buf);
    assert.deepEqual(mine.parsed.map(plain), theirs.parsed.map(plain), JSON.stringify(block.slice(0, 60)));
  }
});

const plain = (h: ParsedHeader) => ({ key: h.key, casedKey: h.casedKey, line: h.line.toString('latin1') });
