// per-call closures called from elsewhere: is each new closure of a hot site compiled again after a GC?
const q = [];
function outer(i) { q.push((s) => { let h = 0; for (let k = 0; k < s.length; k++) h = (h * 31 + s.charCodeAt(k)) | 0; return h ^ i; }); }
function drain() { let r = 0; while (q.length) { const f = q.shift(); for (let j = 0; j < 30; j++) r += f('message-' + j); } return r; }
let t = 0;
for (let i = 0; i < 100000; i++) { outer(i); if (i % 10 === 0) t += drain(); if (process.env.GC && i % 5000 === 0) globalThis.gc(); }
console.log(t);
