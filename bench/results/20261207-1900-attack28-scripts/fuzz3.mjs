import { parseHeaderFrom } from '/work/wt-attack28/dist/src/domains/header-from.js';
import addressparser from '/work/wt-attack28/node_modules/nodemailer/lib/addressparser/index.js';
import { domainOfAddress } from '/work/wt-attack28/dist/src/domains/domain-name.js';
let seed = 11; const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; }; const ri = (n) => Math.floor(rnd() * n);
const parts = ['a', 'Bob', ' ', '\t', '@', 'acme.test', 'evil.test', '<', '>', '.', '-', '_', '+', '"', '(', ')', ',', ';', ':', '\\', 'x@y.z', 'é', '=?utf-8?q?a?='];
let bad = 0;
for (let i = 0; i < 300000; i++) {
  let v = ''; const n = 1 + ri(8); for (let k = 0; k < n; k++) v += parts[ri(parts.length)];
  const got = parseHeaderFrom(`From:${v}\r\n\r\n`).originators.map((o) => o.domain);
  const want = addressparser(v, { flatten: true }).map((a) => a.address ? domainOfAddress(a.address) : null);
  if (JSON.stringify(got) !== JSON.stringify(want)) { bad++; if (bad < 10) console.log(JSON.stringify(v), got, want); }
}
console.log('bad', bad);
