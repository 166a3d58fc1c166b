// The parse-back check the API's two MIME writers share (src/ingress/http/mime-simple.test.ts,
// mime-bytes.test.ts): a text + html mail written with subject 'Héllo', text 'café\r\nline', html
// '<p>café</p>' and the custom header X-Campaign: c1 must parse back (mailparser, an independent
// reader) to the same parts, and must not carry its Bcc.
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';

export const parseBackMail = { subject: 'Héllo', text: 'café\r\nline', html: '<p>café</p>' } as const;

export async function assertParsesBack(bytes: Buffer): Promise<void> {
  const parsed = await simpleParser(bytes);
  assert.equal(parsed.subject, 'Héllo');
  assert.equal(parsed.text, 'café\nline');
  assert.equal(parsed.html, '<p>café</p>');
  assert.equal(parsed.headers.get('x-campaign'), 'c1');
  assert.doesNotMatch(bytes.toString('latin1'), /^bcc:/im);
}
