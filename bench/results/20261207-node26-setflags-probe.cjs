// Does v8.setFlagsFromString change heap sizing after the isolate started? main and a new Worker.
const v8 = require('node:v8'); const { Worker, isMainThread } = require('node:worker_threads');
const flags = process.env.SETF; if (isMainThread && flags) v8.setFlagsFromString(flags);
const churn = () => { const keep = []; for (let r = 0; r < 200; r++) { const a = []; for (let i = 0; i < 20000; i++) a.push({ i, s: 'x' + i }); keep.push(a); if (keep.length > 8) keep.shift(); } };
const ns = () => { const s = v8.getHeapSpaceStatistics(); const g = (n) => Math.round((s.find((x) => x.space_name === n)?.space_size ?? 0) / 1024); return `new ${g('new_space')} old ${g('old_space')}`; };
churn();
if (isMainThread) { console.log(process.version, `[${process.execArgv.join(' ')}] setFlags=${flags ?? ''} main: ${ns()}`); const w = new Worker(__filename); w.on('message', (m) => console.log('   worker:', m)); }
else require('node:worker_threads').parentPort.postMessage(ns());
