if (process.env.SETF) require('node:v8').setFlagsFromString(process.env.SETF);
function f(x) { let s = 0; for (let i = 0; i < 100; i++) s += (x * i) % 7; return s; }
let t = 0; for (let i = 0; i < 200000; i++) t += f(i);
console.log(t);
