// The inbound report fixtures (test/fixtures/reports/*.eml): bounces, DSNs and feedback reports in
// the shapes real MTAs and mailbox providers send, written for these tests.
import fs from 'node:fs';
import path from 'node:path';

const DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../test/fixtures/reports');

export const reportFixtureNames = (): string[] => fs.readdirSync(DIR).filter((f) => f.endsWith('.eml')).sort();

/** The fixture's bytes as stored (LF line ends), or with CRLF line ends as on the wire. */
export function readReportFixture(name: string, lineEnds: 'lf' | 'crlf' = 'lf'): Buffer {
  const raw = fs.readFileSync(path.join(DIR, name));
  return lineEnds === 'lf' ? raw : Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}
