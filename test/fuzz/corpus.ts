// The fuzzing corpus: real traffic committed under test/fixtures/fuzz/<kind>/ (SMTP dialogues as
// the client's raw bytes, DATA content, PROXY headers, config files, API bodies, MAIL/RCPT
// arguments) and the inbound report fixtures of test/fixtures/reports/.
import fs from 'node:fs';
import path from 'node:path';

const FIXTURES = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../test/fixtures');

/** Every file of test/fixtures/<dir>, as bytes, sorted by name. */
export function corpusOf(dir: string): Buffer[] {
  const full = path.join(FIXTURES, dir);
  return fs.readdirSync(full).filter((f) => !f.startsWith('.')).sort().map((f) => fs.readFileSync(path.join(full, f)));
}

/** The lines of test/fixtures/fuzz/<file> as separate entries. */
export function corpusLines(file: string): Buffer[] {
  return fs.readFileSync(path.join(FIXTURES, 'fuzz', file), 'utf8').split('\n').filter((l) => l !== '').map((l) => Buffer.from(l, 'utf8'));
}
