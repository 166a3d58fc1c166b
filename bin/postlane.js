#!/usr/bin/env -S node --max-semi-space-size=2 --heap-growing-percent=30
// Entry point of the `postlane` CLI: runs the compiled TypeScript in dist/.
// The V8 flags above (issue 14, bench/README.md "Memory") take effect when this file is run as a
// program (`postlane …`, `./bin/postlane.js …`, the systemd unit); `node bin/postlane.js` skips them.
// They cap the young generation at 2 × 2 MB and grow the old one by 30 % instead of up to 4×:
// about half the peak memory under load of Node's defaults, for the same CPU per message.
// `npm run build` also bundles dist/src into dist/bundle (scripts/bundle.mjs: fewer, smaller
// modules, less memory at idle); it runs when it is at least as new as tsc's output, else dist/src.
import { statSync } from 'node:fs';

const mtime = (rel) => statSync(new URL(rel, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundled = process.env.POSTLANE_NO_BUNDLE !== '1' && mtime('../dist/bundle/cli.js') >= mtime('../dist/src/cli/index.js');
await import(bundled ? '../dist/bundle/cli.js' : '../dist/src/cli/index.js');
