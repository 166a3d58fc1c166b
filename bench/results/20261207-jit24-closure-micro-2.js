// closures created inside a per-call Promise executor and called from elsewhere (connection-pool.ts #call's shape)
const q = [];
class Pool {
  call(i) { return new Promise((resolve, reject) => { const finish = (err, v) => { if (err) reject(err); else resolve(v + i); }; q.push(finish); }); }
}
const p = new Pool(); let t = 0;
async function main() {
  for (let i = 0; i < 60000; i++) {
    const pr = p.call(i);
    setImmediate(() => { const f = q.shift(); for (let j = 0; j < 1; j++) f(null, j); });
    t += await pr;
    if (process.env.GC && i % 3000 === 0) globalThis.gc();
  }
  console.log(t);
}
main();
