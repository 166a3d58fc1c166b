import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transform } from 'node:stream';
import fc from 'fast-check';
import { needsStuffing, linesFind, scanFindsForTest } from './dot-stuffing.js';
import { withFastPath } from './smtp-connection.js';

type DataStream = Parameters<typeof withFastPath>[0];
// nodemailer does not export its DataStream; it sits next to the entry point in its ESM build.
const { default: DataStreamClass } = await import(new URL('./smtp-connection/data-stream.js', import.meta.resolve('nodemailer')).href) as
  { default: new () => DataStream };

/** What `stream` sends for `chunks`, and its byte counts; `passed` counts the chunks pushed as they came. */
async function sent(stream: DataStream, chunks: Buffer[]): Promise<{ bytes: Buffer; inBytes: number; outBytes: number; passed: number }> {
  const out: Buffer[] = [];
  let passed = 0;
  stream.on('data', (b: Buffer) => { out.push(b); if (chunks.includes(b)) passed++; });
  const ended = new Promise((resolve) => (stream as Transform).on('end', resolve));
  for (const c of chunks) stream.write(c);
  stream.end();
  await ended;
  return { bytes: Buffer.concat(out), inBytes: stream.inByteCount, outBytes: stream.outByteCount, passed };
}

function withFast(): DataStream {
  const s = new DataStreamClass();
  withFastPath(s);
  return s;
}

const bytes = fc.array(fc.constantFrom(0x0d, 0x0a, 0x2e, 0x61, 0x00), { maxLength: 40 });

test('the fast path sends exactly what nodemailer DataStream sends, however the message is cut', async () => {
  await fc.assert(fc.asyncProperty(fc.array(bytes, { maxLength: 6 }), async (parts) => {
    const chunks = parts.map((p) => Buffer.from(p));
    const expected = await sent(new DataStreamClass(), chunks);
    const got = await sent(withFast(), chunks);
    assert.deepEqual({ ...got, passed: 0 }, { ...expected, passed: 0 });
  }), { numRuns: 2000 });
});

test('a CRLF message with no line starting with a dot goes out chunk by chunk, unchanged', async () => {
  const body = Buffer.from('Subject: x\r\n\r\n' + 'a line of text.\r\n'.repeat(50));
  const chunks = [body.subarray(0, 100), body.subarray(100, 101), body.subarray(101)];
  const got = await sent(withFast(), chunks);
  assert.equal(got.passed, 3);
  assert.equal(got.bytes.toString(), body.toString() + '.\r\n');
});

test('needsStuffing finds what DataStream rewrites, also across a chunk boundary', () => {
  assert.equal(needsStuffing(Buffer.from('a\r\nb\r\n'), false), false);
  assert.equal(needsStuffing(Buffer.from('.a\r\n'), false), true); // dot first in the message
  assert.equal(needsStuffing(Buffer.from('a\r\n.b'), false), true);
  assert.equal(needsStuffing(Buffer.from('a\nb'), false), true); // bare LF
  assert.equal(needsStuffing(Buffer.from('a\rb'), false), true); // bare CR
  assert.equal(needsStuffing(Buffer.from('a\r'), false), false); // the CR is judged with the next chunk
  assert.equal(needsStuffing(Buffer.from('\nb'), 0x0d), false);
  assert.equal(needsStuffing(Buffer.from('b'), 0x0d), true);
  assert.equal(needsStuffing(Buffer.from('\n'), 0x61), true);
  assert.equal(needsStuffing(Buffer.from('.'), 0x0a), true);
  assert.equal(needsStuffing(Buffer.from('\n.'), 0x0d), true);
});

test('the scan of a large chunk (16 KB pieces sharing an octet) answers as the line walk does (fast-check)', () => {
  // clean CRLF lines with a few defects (a dot first, a bare CR or LF, CR LF split oddly), some placed at the pieces' edges
  const line = fc.oneof({ weight: 30, arbitrary: fc.nat({ max: 120 }).map((n) => 'a'.repeat(n) + '\r\n') },
    { weight: 1, arbitrary: fc.constantFrom('.\r\n', 'x\n', 'x\r', '\r\r\n', '\n.', '..\r\n', 'b\r') });
  const defect = fc.constantFrom('.', '\r', '\n', '\r\n.', '\n\n', '\r\r', 'x');
  const edge = fc.oneof(fc.nat({ max: 50_000 }), fc.integer({ min: 16_380, max: 16_387 }), fc.integer({ min: 32_763, max: 32_770 }));
  const chunk = fc.tuple(fc.array(line, { minLength: 1, maxLength: 500 }), fc.option(fc.tuple(edge, defect), { freq: 2 }))
    .map(([lines, put]) => {
      let s = lines.join('');
      if (put && put[0] < s.length) s = s.slice(0, put[0]) + put[1] + s.slice(put[0] + put[1].length);
      return Buffer.from(s, 'latin1');
    });
  let found = 0;
  fc.assert(fc.property(chunk, (c) => {
    const walk = linesFind(c);
    assert.equal(scanFindsForTest(c), walk, `length ${c.length}`);
    if (walk) found++;
  }), { numRuns: 1500 });
  assert.ok(found > 100, `defects were found (${found} chunks)`);
  // the chunk's first octet is judged with the byte before it, by needsStuffing itself
  const clean = Buffer.from('a'.repeat(78) + '\r\n'.repeat(1) + ('b'.repeat(78) + '\r\n').repeat(800), 'latin1');
  assert.equal(needsStuffing(clean, false), false);
  assert.equal(needsStuffing(Buffer.concat([Buffer.from('.'), clean]), 0x0a), true);
  assert.equal(needsStuffing(Buffer.concat([Buffer.from('\n'), clean]), 0x0d), false);
  assert.equal(needsStuffing(Buffer.concat([Buffer.from('\n'), clean]), 0x61), true);
  for (const at of [16_383, 16_384, 32_766, 32_767]) {
    for (const bad of ['\n', '\r', '\r\n.']) {
      const c = Buffer.from(clean);
      c.write(bad, at, 'latin1');
      assert.equal(needsStuffing(c, false), linesFind(c), `${JSON.stringify(bad)} at ${at}`);
    }
  }
});
