import { test } from 'node:test';
import assert from 'node:assert/strict';
import { domainToASCII } from 'node:url';
import fc from 'fast-check';
import { normalizeDomain } from './domain-name.js';

// normalizeDomain as it was before its ASCII fast path: every input through domainToASCII.
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
function throughDomainToASCII(input: string): string | null {
  const trimmed = input.trim().replace(/\.$/, '');
  if (trimmed === '' || /[\s@[\]]/.test(trimmed)) return null;
  const ascii = domainToASCII(trimmed).toLowerCase();
  if (ascii === '' || ascii.length > 253) return null;
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^\d+$/.test(labels.at(-1)!)) return null;
  return ascii;
}

test('normalizeDomain: the ASCII fast path answers as domainToASCII does (generated names)', () => {
  // Labels built from the characters where the two could differ: case, digits, hyphens, A-label
  // prefixes (valid and not), hex and decimal numbers that WHATWG reads as IPv4 parts, underscores,
  // non-ASCII letters, empty labels and trailing dots.
  const piece = fc.constantFrom(
    'a', 'Z', 'x', 'n', '-', '--', '0', '9', '0x', '0X1f', '_', 'xn--', 'XN--', 'xn--bcher-kva', 'xn--zz',
    'ä', 'ß', 'İ', 'ﬀ', 'mail', 'EXAMPLE', '1', '255', '08', '',
  );
  const label = fc.array(piece, { minLength: 0, maxLength: 5 }).map((p) => p.join(''));
  const name = fc
    .tuple(fc.array(label, { minLength: 1, maxLength: 5 }), fc.constantFrom('', '.', ' '))
    .map(([labels, end]) => labels.join('.') + end);
  fc.assert(
    fc.property(name, (n) => {
      assert.equal(normalizeDomain(n), throughDomainToASCII(n), JSON.stringify(n));
    }),
    { numRuns: 20_000 },
  );
});

test('normalizeDomain: known answers on the fast path, and the domainToASCII path off it', () => {
  // On the fast path the answer is fixed; off it the answer is the running Node's domainToASCII's
  // (its URL parser differs between versions: Node 24 accepts `xn--zz`, which Node 20 refuses).
  const fast: [string, string | null][] = [
    ['Mail.Example.COM', 'mail.example.com'],
    ['example.com.', 'example.com'],
    ['a-b.example.org', 'a-b.example.org'],
    ['-bad.example', null],
    ['bad-.example', null],
    ['localhost', null],
  ];
  for (const [input, want] of fast) assert.equal(normalizeDomain(input), want, input);
  assert.equal(normalizeDomain('bücher.example'), 'xn--bcher-kva.example');
  for (const input of ['xn--bcher-kva.example', 'xn--zz.example', 'example.0x10', 'example.123', 'under_score.example', 'a..example']) {
    assert.equal(normalizeDomain(input), throughDomainToASCII(input), input);
  }
});
