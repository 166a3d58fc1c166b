// What message_body's column storage costs PostgreSQL a body: the backend's CPU (/proc/PID/schedstat) to INSERT, read back and DELETE bodies one at a time, as the relay does
// (put, readBody, the completion's delete), for three storages of a bytea column: the default
// (pglz, compressed in line when it shrinks, else TOAST), lz4, and EXTERNAL (out of line, never
// compressed). Bodies: 'x' = smtp-source's (80-column lines of X, what bench/cluster.sh sends),
// 'text' = a realistic plain-text mail (~2x compressible), 'b64' = a base64 attachment (random
// bytes), 'b64bare' = the same without the mail's headers in front). Variants interleaved in every round, each on its own table and connection.
//   node bench/pg-body-compression.mjs URL [N=2000] [ROUNDS=4] [SIZE=4096] [KINDS=x,text,b64]
// BATCH=1: each phase one statement over N rows (the storage's own cost, no round trip or commit a body).
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const [url, nArg, roundsArg, sizeArg, kindsArg] = process.argv.slice(2);
const N = Number(nArg ?? 2000), ROUNDS = Number(roundsArg ?? 4), SIZE = Number(sizeArg ?? 4096);
const KINDS = (kindsArg ?? 'x,text,b64').split(',');
const VARIANTS = {
  pglz: 'ALTER TABLE %t ALTER COLUMN data SET COMPRESSION pglz',
  lz4: 'ALTER TABLE %t ALTER COLUMN data SET COMPRESSION lz4',
  external: 'ALTER TABLE %t ALTER COLUMN data SET STORAGE EXTERNAL',
};
const WORDS = ('the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there '
  + 'order invoice shipment account payment delivery customer please regards thank meeting tomorrow schedule report attached update '
  + 'review confirm request project team january february march april number reference total amount balance statement period').split(' ');

function body(kind, i) {
  const head = `Received: from mail${i}.example.net (mail${i}.example.net [192.0.2.${i % 250}])\r\nMessage-ID: <${i}.${Date.now()}@example.net>\r\n`
    + `From: Sender ${i} <sender${i}@example.net>\r\nTo: rcpt${i}@dst.test\r\nSubject: Report ${i}\r\nDate: Mon, 7 Dec 2026 12:00:00 +0000\r\n\r\n`;
  let s = kind === 'b64bare' ? '' : head; // b64bare: base64 from the first byte (no mail headers before it)
  if (kind === 'x') { const line = 'X'.repeat(78) + '\r\n'; while (s.length < SIZE) s += line; }
  else if (kind === 'text') {
    let r = (i + 1) * 2654435761 >>> 0;
    const rnd = () => (r = (Math.imul(r, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let line = '';
    while (s.length < SIZE) {
      const w = rnd() < 0.08 ? String(Math.floor(rnd() * 100000)) : WORDS[Math.floor(rnd() * WORDS.length)];
      line += (line ? ' ' : '') + w;
      if (line.length > 70) { s += line + '\r\n'; line = ''; }
    }
  } else {
    const b64 = randomBytes(Math.ceil(SIZE * 0.75)).toString('base64');
    for (let o = 0; s.length < SIZE; o += 76) s += b64.slice(o, o + 76) + '\r\n';
  }
  return Buffer.from(s.slice(0, SIZE));
}

/** The backend's CPU time so far in ns (/proc/PID/schedstat: time on the CPU). */
function ticks(pid) { return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]); }

const admin = new pg.Client({ connectionString: url }); await admin.connect();
const conns = {};
for (const v of Object.keys(VARIANTS)) {
  const t = `pg26_body_${v}`;
  await admin.query(`DROP TABLE IF EXISTS ${t}; CREATE TABLE ${t} (message_id text PRIMARY KEY, data bytea NOT NULL)`);
  await admin.query(VARIANTS[v].replace('%t', t));
  const c = new pg.Client({ connectionString: url }); await c.connect();
  const pid = (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p;
  conns[v] = { c, t, pid };
}
const results = [];
for (const kind of KINDS) {
  const bodies = Array.from({ length: N }, (_, i) => body(kind, i));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? Object.keys(VARIANTS).reverse() : Object.keys(VARIANTS);
    for (const v of order) {
      const { c, t, pid } = conns[v];
      const ins = { name: `ins_${t}`, text: `INSERT INTO ${t} (message_id, data) VALUES ($1, $2)` };
      const sel = { name: `sel_${t}`, text: `SELECT data FROM ${t} WHERE message_id = $1` };
      const del = { name: `del_${t}`, text: `DELETE FROM ${t} WHERE message_id = $1` };
      const phase = {};
      if (process.env.BATCH === '1') {
        // One statement a phase (N rows): the storage's own cost without a round trip and commit a body.
        // Every row is a different body (its first bytes carry its number, unpadded: a run of zeros would hand pglz a match in its first 1 KB).
        for (const [name, text, values] of [
          ['insert', `INSERT INTO ${t} (message_id, data) SELECT 'r${round}m' || i, overlay($1::bytea placing convert_to(i::text, 'UTF8') from 1) FROM generate_series(1, ${N}) i`, [bodies[0]]],
          ['read', `SELECT sum(get_byte(data, ${SIZE - 1})) FROM ${t}`, []],
          ['delete', `DELETE FROM ${t}`, []]]) {
          const t0 = ticks(pid);
          await c.query(text, values);
          phase[name] = (ticks(pid) - t0) / 1e6 / N;
        }
      } else
      for (const [name, q, arg] of [['insert', ins, (i) => [`r${round}m${i}`, bodies[i]]], ['read', sel, (i) => [`r${round}m${i}`]], ['delete', del, (i) => [`r${round}m${i}`]]]) {
        const t0 = ticks(pid);
        for (let i = 0; i < N; i++) await c.query({ ...q, values: arg(i) });
        phase[name] = (ticks(pid) - t0) / 1e6 / N; // ms a body
      }
      const size = (await admin.query(`SELECT pg_total_relation_size('${t}') AS s`)).rows[0].s;
      const comp = (await admin.query(`SELECT count(*) FILTER (WHERE pg_column_compression(data) IS NOT NULL) AS c FROM ${t}`)).rows[0].c;
      await admin.query(`TRUNCATE ${t}`);
      const r = { kind, size: SIZE, round, variant: v, ...phase, total: phase.insert + phase.read + phase.delete, table_bytes_after_delete: Number(size) };
      results.push(r);
      console.log(JSON.stringify(r));
    }
  }
}
// one stored body of each kind, its stored size under each storage
for (const kind of KINDS) {
  const b = body(kind, 7);
  const row = { kind, raw: b.length };
  for (const v of Object.keys(VARIANTS)) {
    const { t } = conns[v];
    await admin.query(`INSERT INTO ${t} VALUES ('probe', $1)`, [b]);
    const r = (await admin.query(`SELECT pg_column_size(data) AS s, pg_column_compression(data) AS m FROM ${t} WHERE message_id = 'probe'`)).rows[0];
    row[v] = `${r.s} ${r.m ?? 'none'}`;
    await admin.query(`DELETE FROM ${t}`);
  }
  console.log(JSON.stringify({ stored: row }));
}
for (const kind of KINDS) for (const v of Object.keys(VARIANTS)) {
  const xs = results.filter((r) => r.kind === kind && r.variant === v);
  const med = (k) => { const a = xs.map((r) => r[k]).sort((p, q) => p - q); return a[Math.floor(a.length / 2)]; };
  console.log(`# ${kind} ${SIZE} ${v}: insert ${med('insert').toFixed(3)} read ${med('read').toFixed(3)} delete ${med('delete').toFixed(3)} total ${med('total').toFixed(3)} ms/body (median of ${xs.length})`);
}
for (const { c } of Object.values(conns)) await c.end();
for (const v of Object.keys(VARIANTS)) await admin.query(`DROP TABLE IF EXISTS pg26_body_${v}`);
await admin.end();
