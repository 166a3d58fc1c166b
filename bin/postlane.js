#!/usr/bin/env -S node --max-semi-space-size=2 --heap-growing-percent=30 --no-allocation-site-pretenuring
// Entry point of the `postlane` CLI: runs the compiled TypeScript in dist/.
// The V8 flags above (issue 14, bench/README.md "Memory") take effect when this file is run as a
// program (`postlane …`, `./bin/postlane.js …`, the systemd unit); `node bin/postlane.js` skips them.
// They cap the young generation at 2 × 2 MB and grow the old one by 30 % instead of up to 4×:
// about half the peak memory under load of Node's defaults, for the same CPU per message.
// `npm run build` also bundles dist/src into dist/bundle (scripts/bundle.mjs: fewer, smaller
// modules), and this runs it: about 7 MB less idle RSS and 6-9 MB less peak under load, for the same
// CPU per message (bench/README.md, 2026-12-05: over three quiet campaigns on (i) and one on (iii),
// neither build was cheaper beyond the spread). POSTLANE_BUNDLE=0 runs dist/src. The bundle runs only while none of the tsc outputs
// it was made from (dist/bundle/inputs.json) is newer than it (a `tsc -w` rewrites only what
// changed); a stale or missing bundle falls back to dist/src, with a warning when POSTLANE_BUNDLE=1
// asked for the bundle.
import { readFileSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const mtime = (rel) => statSync(new URL(rel, root), { throwIfNoEntry: false })?.mtimeMs;
// Read and removed: the configuration takes POSTLANE_* variables as overrides and names any other.
const asked = process.env.POSTLANE_BUNDLE;
const wanted = asked !== '0';
delete process.env.POSTLANE_BUNDLE;
function bundleIsCurrent() {
  const built = mtime('dist/bundle/cli.js');
  if (built === undefined) return false;
  let inputs;
  try { inputs = JSON.parse(readFileSync(new URL('dist/bundle/inputs.json', root), 'utf8')); } catch { return false; }
  return Array.isArray(inputs) && inputs.length > 0 && inputs.every((f) => (mtime(f) ?? Infinity) <= built);
}
const current = wanted && bundleIsCurrent();
if (asked === '1' && !current) process.stderr.write('postlane: POSTLANE_BUNDLE=1 but dist/bundle is missing or older than dist/src (npm run build): running dist/src\n');
await import(current ? '../dist/bundle/cli.js' : '../dist/src/cli/index.js');
