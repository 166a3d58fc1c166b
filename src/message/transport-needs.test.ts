import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasRawNonAsciiHeader, hasTlsRequiredNo, transportField, transportNeeds } from './transport-needs.js';

const msg = (header: string, body = 'body') => Buffer.from(`${header}\r\n${body}\r\n`, 'utf8');
const needs = (o: { from?: string; message: Buffer; requireTls?: boolean }) =>
  transportNeeds({ mailFrom: o.from ?? 'a@b.example', header: o.message, requireTls: o.requireTls ?? false });

test('SMTPUTF8 is needed (for every recipient) for a UTF-8 sender or raw non-ASCII header octets, never for the body alone', () => {
  const ascii = msg('Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n', 'Grüße im Körper');
  assert.equal(needs({ message: ascii }).smtpUtf8, false, 'RFC 2047 header, 8-bit body: 8BITMIME is enough');
  assert.equal(needs({ message: ascii, from: 'josé@b.example' }).smtpUtf8, true);
  assert.equal(needs({ message: msg('Subject: Grüße\r\n') }).smtpUtf8, true);
  assert.equal(hasRawNonAsciiHeader(Buffer.from([0x53, 0x3a, 0xe9, 0x0d, 0x0a])), true, 'raw Latin-1 in a header counts too');
  assert.equal(hasRawNonAsciiHeader(msg('Subject: hi\r\n', 'é')), false);
});

test('hasRawNonAsciiHeader: any octet >= 0x80 before the empty line, each value at each place', () => {
  const loop = (b: Buffer) => { const end = b.indexOf('\r\n\r\n'); for (const x of end < 0 ? b : b.subarray(0, end)) if (x >= 0x80) return true; return false; };
  for (const octet of [0x00, 0x7f, 0x80, 0xc3, 0xff]) {
    for (const at of [0, 5, 31, 32, 33, 63, 64, 100]) {
      const header = Buffer.from(`Subject: ${'x'.repeat(120)}\r\n\r\nbody é\r\n`, 'latin1');
      header[at] = octet;
      assert.equal(hasRawNonAsciiHeader(header), loop(header), `octet ${octet} at ${at}`);
      assert.equal(hasRawNonAsciiHeader(header), octet >= 0x80, `octet ${octet} at ${at}`);
    }
  }
  assert.equal(hasRawNonAsciiHeader(Buffer.alloc(0)), false);
  assert.equal(hasRawNonAsciiHeader(Buffer.from('Subject: x\r\n\r\n\xff', 'latin1')), false, 'after the empty line it is body');
  assert.equal(hasRawNonAsciiHeader(Buffer.from('Subject: x\xff', 'latin1')), true, 'no empty line: all of it is header');
});

test('TLS-Required: No, any case, folded; other values and other fields do not count', () => {
  assert.equal(hasTlsRequiredNo(msg('Subject: x\r\nTLS-Required: No\r\n')), true);
  assert.equal(hasTlsRequiredNo(msg('tls-required:no\r\n')), true);
  assert.equal(hasTlsRequiredNo(msg('TLS-Required:\r\n  NO\r\n')), true);
  assert.equal(hasTlsRequiredNo(msg('TLS-Required: Yes\r\n')), false);
  assert.equal(hasTlsRequiredNo(msg('X-TLS-Required: No\r\n')), false);
  assert.equal(hasTlsRequiredNo(msg('Subject: x\r\n', 'TLS-Required: No')), false, 'in the body it is not a header field');
});

test('REQUIRETLS wins over TLS-Required: No; the stored field is present only when something is needed', () => {
  const relaxed = msg('TLS-Required: No\r\n');
  assert.deepEqual(needs({ message: relaxed, requireTls: true }), { requireTls: true, smtpUtf8: false, tlsOptional: false });
  assert.deepEqual(needs({ message: relaxed }), { requireTls: false, smtpUtf8: false, tlsOptional: true });
  assert.deepEqual(transportField(needs({ message: msg('Subject: x\r\n') })), {});
  assert.deepEqual(transportField(needs({ message: relaxed })), { transport: { requireTls: false, smtpUtf8: false, tlsOptional: true } });
});
