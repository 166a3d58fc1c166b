// The simulator under hostile input (attacker's view): it is a staging tool, but its listeners
// are real SMTP servers. A client that streams far more than maxMessageBytes in one DATA gets 552
// and the simulator does not hold what it refused (it used to buffer every chunk: a few such
// messages exhausted its memory). Raw SMTP over loopback against the in-process simulator.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startSimulator, type Simulator } from '../../src/sim/simulator.js';

let sim: Simulator;
// What the simulator holds is measured after a full collection: the 64 KiB read chunks it has
// already dropped are garbage until V8 collects them, and a peak that counted them failed once in
// CI at 97 MiB (GC timing, not a buffer kept).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

before(async () => {
  sim = await startSimulator({ keepBodies: false, providers: [{ name: 'small', profile: 'gmail', host: '127.0.14.2', port: 0, overrides: { maxMessageBytes: 1024 * 1024 } }] });
});
after(async () => { await sim?.close(); });

/** One raw SMTP client: sends a line, reads until a final reply line. */
function rawClient(host: string, port: number) {
  const socket = net.connect(port, host);
  let buffer = '';
  const waiters: (() => void)[] = [];
  socket.on('data', (d: Buffer) => { buffer += d.toString('latin1'); waiters.splice(0).forEach((w) => w()); });
  const reply = async (): Promise<string> => {
    for (;;) {
      const m = /^(\d{3}) .*\r\n/m.exec(buffer);
      if (m) { const end = m.index + m[0].length; const r = buffer.slice(0, end); buffer = buffer.slice(end); return r; }
      await new Promise<void>((resolve, reject) => { waiters.push(resolve); socket.once('error', reject); });
    }
  };
  const write = (data: string | Buffer) => new Promise<void>((resolve) => { if (socket.write(data)) resolve(); else socket.once('drain', () => resolve()); });
  return { socket, reply, write };
}

test('a DATA far over maxMessageBytes gets 552 and is not held in memory', async () => {
  const { host, port } = sim.address('small');
  const c = rawClient(host, port);
  assert.match(await c.reply(), /^220 /);
  await c.write('EHLO attacker.test\r\n'); assert.match(await c.reply(), /^250/);
  await c.write('MAIL FROM:<a@attacker.test>\r\n'); assert.match(await c.reply(), /^250/);
  await c.write('RCPT TO:<b@gmail.test>\r\n'); assert.match(await c.reply(), /^250/);
  await c.write('DATA\r\n'); assert.match(await c.reply(), /^354 /);
  const line = Buffer.from('x'.repeat(998) + '\r\n');
  const block = Buffer.concat(Array.from({ length: 1024 }, () => line)); // 1 MiB
  gc();
  const base = process.memoryUsage().arrayBuffers;
  let held = 0;
  for (let i = 0; i < 256; i++) { // 256 MiB, 256 times the limit
    await c.write(block);
    if (i % 64 === 63) { gc(); held = Math.max(held, process.memoryUsage().arrayBuffers - base); }
  }
  await c.write('.\r\n');
  const answer = await c.reply();
  assert.match(answer, /^552 /);
  assert.ok(held < 96 * 1024 * 1024, `held ${Math.round(held / 1048576)} MiB for a refused message`);
  await c.write('QUIT\r\n');
  c.socket.destroy();
  assert.equal(sim.received('small').length, 0);
});
