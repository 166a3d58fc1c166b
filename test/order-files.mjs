// Prints every compiled test file (dist/**/*.test.js) for `node --test`: first those named in
// test/slow-files.txt, in its order (the slowest first, so the two workers never end on one long
// file), then all the others sorted. Each file exactly once; a listed file that no longer exists
// is skipped. Used by `npm test` (package.json).
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');
const all = fs.readdirSync(dist, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.test.js')).map((f) => f.split(path.sep).join('/')).sort();
const present = new Set(all);
const slow = fs.readFileSync(path.join(root, 'test/slow-files.txt'), 'utf8').split('\n')
  .map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#') && present.has(l));
const first = [...new Set(slow)];
const listed = new Set(first);
process.stdout.write([...first, ...all.filter((f) => !listed.has(f))].map((f) => `dist/${f}`).join('\n') + '\n');
