// Preload for bench/wal-frames.sh (wal25, twenty-fifth session): the relay's writer connection runs
// with SQLite's automatic checkpoints off (`wal_autocheckpoint = 0`), so that every frame the relay
// appends stays in queue.db-wal and can be read back and attributed to a b-tree afterwards. A count
// tool only: the checkpoints are simulated by wal-frames.py from the frames. Nothing in the product
// reads this; better-sqlite3 is the build's (a symlinked node_modules resolves to one module).
'use strict';
const Database = require(require.resolve('better-sqlite3', { paths: [process.env.WF_BUILD || process.cwd()] }));
const pragma = Database.prototype.pragma;
Database.prototype.pragma = function (source, options) {
  const r = pragma.call(this, source, options);
  // connections.ts sets synchronous = NORMAL on the writer only, after its migrations
  if (typeof source === 'string' && source.replace(/\s+/g, ' ').trim() === 'synchronous = NORMAL') pragma.call(this, 'wal_autocheckpoint = 0');
  return r;
};
