// node --no-opt dec.cjs M utf8|latin1: a command line decoded M times, as session.ts (TextDecoder fatal) or isAscii + latin1Slice (cpu20, twentieth session; not kept: ~2.7 K against ~2.8 K instructions a line)
const { isAscii } = require('node:buffer');
const utf8 = new TextDecoder('utf-8', { fatal: true });
const M = +process.argv[2], mode = process.argv[3];
const lines = ['MAIL FROM:<sender@src.test>', 'RCPT TO:<user1@dst.test>', 'EHLO client.example', 'DATA', 'QUIT'].map((s) => Buffer.from(s));
let n = 0;
for (let i = 0; i < M; i++) {
  const line = lines[i % 5];
  let t;
  if (mode === 'utf8') t = utf8.decode(line);
  else if (mode === 'latin1') t = isAscii(line) ? line.latin1Slice(0, line.length) : utf8.decode(line);
  else t = isAscii(line) ? line.toString('latin1') : utf8.decode(line);
  n += t.length;
}
console.log(n);
