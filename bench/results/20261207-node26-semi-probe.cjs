// allocate with survivors so the young generation grows to its cap; print new space capacity
const v8 = require('node:v8');
const keep = [];
for (let r = 0; r < 200; r++) { const a = []; for (let i = 0; i < 20000; i++) a.push({ i, s: 'x' + i }); keep.push(a); if (keep.length > 8) keep.shift(); }
const sp = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name.replace('_space', ''), Math.round(s.space_size / 1024)]));
const hs = v8.getHeapStatistics();
console.log(process.version, JSON.stringify(sp), 'new_space_max?', JSON.stringify(require('node:v8').getHeapSpaceStatistics().find(s=>s.space_name==='new_space')));
