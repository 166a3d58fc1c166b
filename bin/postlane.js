#!/usr/bin/env -S node --max-semi-space-size=2 --heap-growing-percent=30
// Entry point of the `postlane` CLI: runs the compiled TypeScript in dist/.
// The V8 flags above (issue 14, bench/README.md "Memory") take effect when this file is run as a
// program (`postlane …`, `./bin/postlane.js …`, the systemd unit); `node bin/postlane.js` skips them.
// They cap the young generation at 2 × 2 MB and grow the old one by 30 % instead of up to 4×:
// about half the peak memory under load of Node's defaults, for the same CPU per message.
// `npm run build` also bundles dist/src into dist/bundle (scripts/bundle.mjs: fewer, smaller
// modules): POSTLANE_BUNDLE=1 runs it, for hosts short of memory. It saves about 8 MB of idle RSS
// and 5 % of the peak under load, and costs about 7 % more CPU per message (bench/README.md, sixth
// session), so dist/src stays the default. The bundle runs only while none of the tsc outputs it
// was made from (dist/bundle/inputs.json) is newer than it (a `tsc -w` rewrites only what changed).
import { readFileSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const mtime = (rel) => statSync(new URL(rel, root), { throwIfNoEntry: false })?.mtimeMs;
// Read and removed: the configuration takes POSTLANE_* variables as overrides and names any other.
const wanted = process.env.POSTLANE_BUNDLE === '1';
delete process.env.POSTLANE_BUNDLE;
function bundleIsCurrent() {
  const built = mtime('dist/bundle/cli.js');
  if (built === undefined) return false;
  let inputs;
  try { inputs = JSON.parse(readFileSync(new URL('dist/bundle/inputs.json', root), 'utf8')); } catch { return false; }
  return Array.isArray(inputs) && inputs.length > 0 && inputs.every((f) => (mtime(f) ?? Infinity) <= built);
}
if (wanted && !bundleIsCurrent()) process.stderr.write('postlane: POSTLANE_BUNDLE=1 but dist/bundle is missing or older than dist/src (npm run build): running dist/src\n');
await import(wanted && bundleIsCurrent() ? '../dist/bundle/cli.js' : '../dist/src/cli/index.js');
