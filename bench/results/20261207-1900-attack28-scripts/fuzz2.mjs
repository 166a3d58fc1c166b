import { parseMailArgs, parseMailArgsGeneral, parseRcptArgs, parseRcptArgsGeneral } from '/work/wt-attack28/dist/src/message/address.js';
import { domainToASCII } from 'node:url';
let seed = 7; const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; }; const ri = (n) => Math.floor(rnd() * n);
const parts = ['a', 'B', '.', '..', '@', '-', '<', '>', '"', '\\', '%', '!', 'xn--', '.test', 'é', ' ', ':', ',', '[', ']', '1', 'Z', '_', '=', '+', '-a', 'a-'];
let bad = 0;
for (let i = 0; i < 300000; i++) {
  let s = ''; const n = ri(14); for (let k = 0; k < n; k++) s += parts[ri(parts.length)];
  const argM = (rnd() < 0.5 ? 'FROM:' : 'from:') + (rnd() < 0.8 ? '<' + s + '>' : s);
  const argR = 'TO:' + (rnd() < 0.8 ? '<' + s + '>' : s);
  const a = JSON.stringify(parseMailArgs(argM)), b = JSON.stringify(parseMailArgsGeneral(argM));
  const c = JSON.stringify(parseRcptArgs(argR)), d = JSON.stringify(parseRcptArgsGeneral(argR));
  if (a !== b) { bad++; if (bad < 10) console.log('MAIL', argM, a, b); }
  if (c !== d) { bad++; if (bad < 10) console.log('RCPT', argR, c, d); }
  // ASCII domain accepted but domainToASCII would refuse
  const r = parseRcptArgs(argR);
  if (r.ok && r.value.recipient.domain && !r.value.recipient.isAddressLiteral && domainToASCII(r.value.recipient.domain) === '') { bad++; if (bad < 20) console.log('IDNA-REFUSES', argR, r.value.recipient.domain); }
}
console.log('bad', bad);
