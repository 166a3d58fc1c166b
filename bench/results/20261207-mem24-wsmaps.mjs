import { Worker } from 'node:worker_threads'; import fs from 'node:fs';
const opt = JSON.parse(process.argv[2] ?? '{}');
const code = process.argv[3] ?? `require('node:worker_threads').parentPort.postMessage({ready:true}); setInterval(()=>{},1000);`;
fs.writeFileSync('/tmp/mem24/s0.txt', fs.readFileSync('/proc/self/smaps'));
const w = new Worker(code, { eval: true, ...opt });
await new Promise((r) => w.once('message', r));
await new Promise((r) => setTimeout(r, 1000));
fs.writeFileSync('/tmp/mem24/s1.txt', fs.readFileSync('/proc/self/smaps'));
process.exit(0);
