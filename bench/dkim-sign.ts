// Benchmark: CPU per signed message, mailauth's dkimSign (parses the PEM on every call: the signer
// before issue 14) against signMessage (parsed keys cached by PEM), interleaved in one invocation.
// A 3 KB message; Ed25519, RSA-2048, and both (dual). CPU ms per message (process.cpuUsage over a
// batch), median of ROUNDS batches of BATCH messages each, and the ratio of medians.
//   npx tsc -p bench/tsconfig.json && node dist/bench/dkim-sign.js [rounds=9] [batch=200]
import type { DKIMSignOptions } from 'mailauth';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { generateDkimKey } from '../src/domains/dkim-keys.js';
import { signMessage, SIGNED_HEADERS, type SigningKey } from '../src/domains/dkim-sign.js';

const ROUNDS = Number(process.argv[2] ?? 9);
const BATCH = Number(process.argv[3] ?? 200);
const DOMAIN = 'acme.test';
const message = Buffer.from([
  'From: App <app@acme.test>', 'To: bob@dest.test', 'Subject: Your receipt', 'Date: Fri, 04 Dec 2026 11:00:00 +0000',
  'Message-ID: <r1@acme.test>', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '',
  ...Array.from({ length: 40 }, (_, i) => `Line ${i} of the receipt: thanks for your order, it ships tomorrow.`), '',
].join('\r\n'));

async function before(keys: SigningKey[]): Promise<void> {
  const res = await dkimSign(message, {
    canonicalization: 'relaxed/relaxed', headerList: SIGNED_HEADERS.join(':'), signTime: new Date(),
    signatureData: keys.map((k) => ({ signingDomain: DOMAIN, selector: k.selector, privateKey: k.privateKey, algorithm: `${k.algorithm}-sha256` })),
  } as unknown as DKIMSignOptions);
  if (res.errors.length) throw new Error('sign failed');
}
const after = async (keys: SigningKey[]) => { await signMessage(message, { domain: DOMAIN, keys }); };

async function cpuMsPerMessage(fn: (k: SigningKey[]) => Promise<void>, keys: SigningKey[]): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < BATCH; i++) await fn(keys);
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000 / BATCH;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const [rsa, ed] = await Promise.all([generateDkimKey('rsa'), generateDkimKey('ed25519')]);
const sets: Record<string, SigningKey[]> = {
  ed25519: [{ selector: 'ed', algorithm: 'ed25519', privateKey: ed.privateKey }],
  'rsa-2048': [{ selector: 'rsa', algorithm: 'rsa', privateKey: rsa.privateKey }],
  dual: [{ selector: 'rsa', algorithm: 'rsa', privateKey: rsa.privateKey }, { selector: 'ed', algorithm: 'ed25519', privateKey: ed.privateKey }],
};
for (const keys of Object.values(sets)) { await before(keys); await after(keys); } // warm up
const results: Record<string, { before: number[]; after: number[] }> = {};
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, keys] of Object.entries(sets)) {
    const slot = (results[name] ??= { before: [], after: [] });
    slot.before.push(await cpuMsPerMessage(before, keys));
    slot.after.push(await cpuMsPerMessage(after, keys));
  }
}
const load = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`${message.length} B message, ${ROUNDS} rounds x ${BATCH} messages, load ${load}`);
for (const [name, { before: b, after: a }] of Object.entries(results)) {
  console.log(`${name}: before ${median(b).toFixed(3)} ms/msg, after ${median(a).toFixed(3)} ms/msg, before/after ${(median(b) / median(a)).toFixed(2)}x`);
}
