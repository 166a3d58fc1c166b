import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
const root = '/work/wt-mem24';
const anon = () => +fs.readFileSync('/proc/self/smaps_rollup','utf8').match(/^Anonymous:\s+(\d+)/m)[1];
const { openConnections } = await import(`${root}/dist/src/store/sqlite/connections.js`);
const { DEFAULT_BREAKER_POLICY } = await import(`${root}/dist/src/store/breaker-rules.js`);
const W = await import(`${root}/dist/src/store/sqlite/write-ops.js`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mem24-mr-'));
const { writer } = openConnections({ dbPath: dir + '/q.db', spoolDir: dir, sweepOrphans: false, orphanAgeMs: 1, softBounces: { count: 3, windowMs: 1e9 }, breakers: DEFAULT_BREAKER_POLICY });
const keep = [];
for (const [name, mr] of [['SET_RESULTS', W.SET_RESULTS], ['INSERT_ATTEMPTS', W.INSERT_ATTEMPTS]]) {
  const a = anon();
  for (let k = 1; k <= 16; k++) keep.push(writer.prepare(mr.text(k)));
  console.log(name, '16 statements', anon() - a, 'KB');
}
const ins = `INSERT INTO recipient (message_id, address, domain, state, next_attempt_at, updated_at, stream, account, received_at) VALUES `;
let a = anon();
for (let k = 1; k <= 16; k++) keep.push(writer.prepare(ins + Array.from({ length: k }, () => `(?, ?, ?, 'queued', ?, ?, ?, ?, ?)`).join(', ')));
console.log('INSERT_RECIPIENTS 16 statements', anon() - a, 'KB');
a = anon();
for (let k = 1; k <= 16; k++) keep.push(writer.prepare('INSERT INTO event (at, account, type, message_id, recipient, data) VALUES ' + Array.from({ length: k }, () => `(?, ?, ?, ?, ?, ?)`).join(', ')));
console.log('INSERT_EVENTS 16 statements', anon() - a, 'KB');
