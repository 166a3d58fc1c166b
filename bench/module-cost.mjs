// What importing modules costs a fresh process, with the launcher's V8 flags:
//   node --max-semi-space-size=2 --heap-growing-percent=30 --expose-gc bench/module-cost.mjs zod+zod/v4
// ("+" joins modules imported together; "none" for the baseline). Prints RSS, used and total heap
// over the process before the imports, after two forced collections. Run each variant in its own
// process, interleaved, several times.
const which = process.argv[2] ?? 'none';
globalThis.gc();
const before = process.memoryUsage();
for (const m of which.split('+')) if (m !== 'none') await import(m);
globalThis.gc(); globalThis.gc();
const after = process.memoryUsage();
const mb = (k) => ((after[k] - before[k]) / 1048576).toFixed(2);
console.log(`${which.padEnd(12)} rss+ ${mb('rss')} heapUsed+ ${mb('heapUsed')} heapTotal+ ${mb('heapTotal')}`);
