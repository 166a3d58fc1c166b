const A = await import('/tmp/cpu17-base/dist/src/message/address.js');
const B = await import('/work/wt-cpu17/dist/src/message/address.js');
const alphabet = ['a','b','Z','0','9','-','.','@','<','>','"','\\',' ','%','!','[',']',':',',','=','é','\u{1F600}','\uD800','x','_','+','/','I','P','v','6'];
let seed = 12345; const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
const gen = () => { let t = ''; const n = rnd(40); for (let i = 0; i < n; i++) t += alphabet[rnd(alphabet.length)]; return t; };
const templates = [(x) => `TO:<${x}>`, (x) => `TO:<${x}@${gen()}>`, (x) => `TO:<a@${x}>`, (x) => `TO:${x}`, (x) => `TO:<${x}> NOTIFY=NEVER`, (x)=>`TO:<"${x}"@ex.com>`, (x)=>`TO:<a${'b'.repeat(rnd(70))}@${'c'.repeat(rnd(70))}.${x}>`];
let n = 0, bad = 0;
for (let k = 0; k < 300000; k++) {
  const arg = templates[rnd(templates.length)](gen());
  const a = JSON.stringify(A.parseRcptArgs(arg)), b = JSON.stringify(B.parseRcptArgs(arg));
  const fa = JSON.stringify(A.parseMailArgs('FROM:' + arg.slice(3))), fb = JSON.stringify(B.parseMailArgs('FROM:' + arg.slice(3)));
  const ma = JSON.stringify(A.parseMailbox(arg.slice(4, -1))), mb = JSON.stringify(B.parseMailbox(arg.slice(4, -1)));
  if (a.includes("\"ok\":true")) globalThis.okc=(globalThis.okc||0)+1; n++; if (a !== b || fa !== fb || ma !== mb) { bad++; if (bad < 5) console.log('DIFF', JSON.stringify(arg), a, b, fa, fb, ma, mb); }
}
// long domains / labels
for (let L = 0; L < 300; L++) for (const lab of [1, 62, 63, 64]) {
  const d = Array.from({ length: Math.ceil(L / (lab + 1)) }, () => 'a'.repeat(lab)).join('.');
  for (const arg of [`TO:<x@${d}>`, `TO:<x@${d}->`, `TO:<x@-${d}>`, `TO:<x@${d}.>`]) { n++; if (JSON.stringify(A.parseRcptArgs(arg)) !== JSON.stringify(B.parseRcptArgs(arg))) { bad++; console.log('DIFF long', arg.length); } }
}
console.log('ok', globalThis.okc, 'cases', n, 'differences', bad);
