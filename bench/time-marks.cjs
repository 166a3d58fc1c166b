// time-marks.cjs: preloaded into the relay (`node --require …/bench/time-marks.cjs`) with V8's tracing flags
// (--trace-opt/--trace-deopt) and stdout unbuffered (`stdbuf -o0`): writes `[time-mark <epoch ms>]` to stdout every
// 250 ms, so that bench/compile-window.mjs can tell which compilations fell in a harness run's measured window.
const fs = require('node:fs');
const t = setInterval(() => { try { fs.writeSync(1, `[time-mark ${Date.now()}]\n`); } catch {} }, 250);
t.unref();
