// Counts pg Client.query calls by statement (name or first 70 chars), and socket writes (writev/write calls on pg streams), printed at exit.
import { createRequire } from 'node:module';
import { writeSync } from 'node:fs';
const require = createRequire('/work/main/node_modules/');
const pg = require('pg');
const counts = new Map();
const orig = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, ...rest) {
  const text = typeof config === 'string' ? config : (config?.name ?? config?.text ?? '?');
  const k = String(text).replace(/\s+/g, ' ').slice(0, 70);
  counts.set(k, (counts.get(k) ?? 0) + 1);
  return orig.call(this, config, ...rest);
};
process.on('exit', () => {
  const rows = [...counts].sort((a, b) => b[1] - a[1]).filter(([, n]) => n > 2);
  writeSync(2, `PGCOUNT ${JSON.stringify(rows)}\n`);
});
