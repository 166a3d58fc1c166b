// The relay's cost of a bearer token guess (api31): starts the built relay of the tree given
// (its dist/test/helpers), sends random well-formed tokens from one address with `concurrency`
// requests in flight, then valid-key GETs from another, and reports per request the relay's CPU
// (whole process, and its main thread alone, from /proc), the wall time, the answers and the store
// lookups of the run (postlane_api_key_lookups_total where the tree has it).
//   node bench/api-guess-cost.mjs <tree> [guesses=5000] [valid=5000] [concurrency=20] [postgres://… (else SQLite)]
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';

const [tree, guesses = '5000', valid = '5000', conc = '20', pgUrl] = process.argv.slice(2);
const { RelayProcess } = await import(path.resolve(tree, 'dist/test/helpers/relay-process.js'));
const { seedRelayTenant } = await import(path.resolve(tree, 'dist/test/helpers/api-fixture.js'));
const HOST = '127.0.72.1';
const TICK_MS = 10; // USER_HZ 100

const relay = await RelayProcess.create({ ...(pgUrl ? { storage: { url: pgUrl } } : {}), dns: { servers: ['127.0.0.1:9'] }, http: { host: HOST, port: 0 } });
try {
  const acme = await seedRelayTenant(relay, { account: 'acme', domains: ['acme.test'], keys: { read: ['read'] } });
  await relay.start();
  const pid = relay.child.pid;
  const base = `http://${HOST}:${relay.port('http')}`;
  const cpu = (file) => { const f = fs.readFileSync(file, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * TICK_MS; };
  const sample = () => ({ total: cpu(`/proc/${pid}/stat`), main: cpu(`/proc/${pid}/task/${pid}/stat`), at: performance.now() });
  const lookups = async () => {
    const text = await (await fetch(`http://127.0.0.1:${relay.port('metrics')}/metrics`)).text();
    const m = [...text.matchAll(/^postlane_api_key_lookups_total\{result="(\w+)"\} (\d+)/gm)];
    return m.length ? Object.fromEntries(m.map((x) => [x[1], Number(x[2])])) : null;
  };
  async function run(label, from, n, token) {
    const agent = new Agent({ localAddress: from, connections: Number(conc) });
    const statuses = {};
    const one = async () => {
      const res = await request(`${base}/v1/account`, { dispatcher: agent, headers: { authorization: `Bearer ${token()}` } });
      await res.body.dump();
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    };
    for (let i = 0; i < 200; i++) await one(); // warm-up (the API is built at the first request)
    for (const k of Object.keys(statuses)) delete statuses[k];
    const l0 = await lookups();
    const s0 = sample();
    let left = n;
    await Promise.all(Array.from({ length: Number(conc) }, async () => { while (left-- > 0) await one(); }));
    const s1 = sample();
    const l1 = await lookups();
    await agent.close();
    const per = (ms) => Number((ms / n * 1000).toFixed(1));
    return {
      label, requests: n, statuses, perSecond: Math.round(n / ((s1.at - s0.at) / 1000)),
      cpuUsPerRequest: per(s1.total - s0.total), mainThreadUsPerRequest: per(s1.main - s0.main),
      lookups: l0 && l1 ? Object.fromEntries(Object.keys(l1).map((k) => [k, l1[k] - (l0[k] ?? 0)])) : 'no metric in this tree',
    };
  }
  const guessToken = () => `pl_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;
  const out = [
    await run('random tokens, one address', '127.0.72.20', Number(guesses), guessToken),
    await run('valid key, another address', '127.0.72.21', Number(valid), () => acme.tokens.read),
  ];
  console.log(JSON.stringify({ tree, store: pgUrl ? 'postgres' : 'sqlite', concurrency: Number(conc), node: process.version, results: out }, null, 2));
} finally {
  await relay.cleanup();
}
