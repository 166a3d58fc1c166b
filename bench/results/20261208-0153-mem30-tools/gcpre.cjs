// mem30 experiment: a memory-reducing full GC in each isolate MEM30_GC_AT ms after it starts
const v8 = require('node:v8'); const vm = require('node:vm');
v8.setFlagsFromString('--expose-gc'); const gc = vm.runInNewContext('gc');
if (process.env.MEM30_GC_MAIN_ONLY && !require('node:worker_threads').isMainThread) return;
const at = Number(process.env.MEM30_GC_AT || 20000);
setTimeout(() => { try { gc({ type: 'major', execution: 'sync', flavor: process.env.MEM30_GC_FLAVOR || 'last-resort' }); } catch (e) { process.stderr.write('gc: ' + e.message + '\n'); } }, at).unref();
