// Bundles the compiled relay (dist/src, tsc's output) with its dependencies into dist/bundle:
// cli.js (what bin/postlane.js runs), sqlite-worker.js (the store's database thread), sqlite-reader.js
// (the heavy-read thread of an in-process executor, started on demand: store/sqlite/reader-thread.ts)
// and a chunk per lazy import, minified. Fewer and smaller modules than dist/src + node_modules: less compiled code,
// source text and module records held by V8, about 8 MB less RSS at idle (issue 14, bench/README.md
// "Memory, sixth session"). Run by `npm run build` and `npm test` after tsc. Tests import dist/src;
// the launcher runs the bundle only when none of the tsc outputs it was made from (dist/bundle/
// inputs.json) is newer than it, else dist/src.
// rolldown comes with vite (a devDependency).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = path.join(root, 'dist/bundle');

// Each module keeps its own import.meta.url (files it reads next to itself: package.json, the
// dashboard, the verify lists), made relative to the chunk so that the tree can be moved; the
// store's two threads are the bundled ones.
const WORKER_URL = "new URL('./worker.js', import.meta.url)";
const READER_URL = "new URL('./reader-worker.js', import.meta.url)";
const ownUrl = {
  name: 'own-import-meta-url',
  transform(code, id) {
    if (!id.startsWith(root) || id.includes('/node_modules/') || !code.includes('import.meta.url')) return null;
    const isClient = id.endsWith('/store/sqlite/worker-client.js');
    if (isClient && !code.includes(WORKER_URL)) throw new Error(`bundle: the worker's URL changed in ${id}`);
    if (isClient) code = code.replace(WORKER_URL, 'new URL(BUNDLED_WORKER)');
    const isStarter = id.endsWith('/store/sqlite/reader-thread.js');
    if (isStarter && !code.includes(READER_URL)) throw new Error(`bundle: the heavy-read thread's URL changed in ${id}`);
    if (isStarter) code = code.replace(READER_URL, 'new URL(BUNDLED_READER)');
    const rel = path.relative(outDir, id).split(path.sep).join('/');
    code = code.replace(/import\.meta\.url/g, `new URL(${JSON.stringify(rel)}, import.meta.url).href`);
    code = code.replace('new URL(BUNDLED_WORKER)', "new URL('./sqlite-worker.js', import.meta.url)");
    return { code: code.replace('new URL(BUNDLED_READER)', "new URL('./sqlite-reader.js', import.meta.url)"), map: null };
  },
};

// libmime ships an ESM and a CommonJS build; src imports the one, mailsplit requires the other, so
// both would load (each with its 80 KB table of MIME types). The bundle has the CommonJS one only.
const require = createRequire(import.meta.url);
const oneLibmime = {
  name: 'one-libmime',
  resolveId: (source) => (source === 'libmime' ? require.resolve('libmime') : null),
};

fs.rmSync(outDir, { recursive: true, force: true });
const bundle = await rolldown({
  input: {
    cli: path.join(root, 'dist/src/cli/index.js'),
    'sqlite-worker': path.join(root, 'dist/src/store/sqlite/worker.js'),
    'sqlite-reader': path.join(root, 'dist/src/store/sqlite/reader-worker.js'),
  },
  platform: 'node',
  // native code (better-sqlite3), and pino, whose transports load files of the package by path
  external: [/^node:/, /^better-sqlite3(\/|$)/, /^pino(\/|$)/, /^pino-/, /^thread-stream(\/|$)/],
  plugins: [ownUrl, oneLibmime],
  onLog(level, log, handler) {
    if (log.code === 'INEFFECTIVE_DYNAMIC_IMPORT') return; // an import() of a module also imported statically
    handler(level, log);
  },
});
const { output } = await bundle.write({ dir: outDir, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js', minify: true, sourcemap: true,
  // escaped: one non-Latin-1 character makes V8 hold a chunk's whole source (kept for lazy
  // compilation) as a two-byte string, twice the memory
  charset: 'ascii',
  keepNames: true, // function and class names as in the source (stack traces, `name` checks in dependencies)
});
await bundle.close();

// The tsc outputs the bundle was made from: the launcher runs the bundle only while none of them is
// newer than it (a `tsc -w` or partial emit rewrites only what changed), else dist/src.
const distSrc = path.join(root, 'dist/src') + path.sep;
const inputs = [...new Set(output.flatMap((o) => (o.type === 'chunk' ? o.moduleIds : [])).filter((id) => id.startsWith(distSrc)))]
  .map((id) => path.relative(root, id).split(path.sep).join('/')).sort();
if (!inputs.includes('dist/src/cli/index.js')) throw new Error('bundle: dist/src/cli/index.js is not among its inputs');
fs.writeFileSync(path.join(outDir, 'inputs.json'), `${JSON.stringify(inputs)}\n`);
