// How long the latest SQLite migrations take on a full queue, at the first start of a new version:
// a store at schema FROM (default 21) filled with N deferred recipients (10 per message, 50
// domains) in one transaction, then `migrate` to the latest, timed.
//   node bench/sqlite-migration-time.mjs [N=1000000] [FROM=21] [BUILD=.]   (a built dist/)
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [n = '1000000', from = '21', build = '.'] = process.argv.slice(2);
const { MIGRATIONS, migrate } = await import(pathToFileURL(path.resolve(build, 'dist/src/store/sqlite/migrations.js')).href);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postlane-migration-'));
const db = new Database(path.join(dir, 'queue.db'));
try {
  db.pragma('journal_mode = WAL');
  for (const m of MIGRATIONS.filter((x) => x.version <= Number(from))) db.exec(m.sql);
  db.pragma(`user_version = ${Number(from)}`);
  db.prepare("INSERT INTO account (name, created_at) VALUES ('acme', 1)").run();
  const msg = db.prepare(`INSERT INTO queued_message (id, mail_from, size, received_at, origin, is_bounce, route, account, stream)
                          VALUES (?, 'a@s.example', 4, 1, '{}', 0, 'relay', 'acme', 'transactional')`);
  const rcpt = db.prepare(`INSERT INTO recipient (message_id, address, domain, state, next_attempt_at, updated_at, stream, account, received_at)
                           VALUES (?, ?, ?, 'deferred', 5, 1, 'transactional', 'acme', 1)`);
  db.transaction(() => {
    for (let i = 0; i < Number(n); i++) {
      if (i % 10 === 0) msg.run(`m${i / 10}`);
      rcpt.run(`m${Math.floor(i / 10)}`, `r${i}@d${i % 50}.example`, `d${i % 50}.example`);
    }
  })();
  const t0 = process.hrtime.bigint();
  const to = migrate(db);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(JSON.stringify({ recipients: Number(n), from: Number(from), to, ms: Math.round(ms), loadavg: os.loadavg()[0].toFixed(1) }));
} finally {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
