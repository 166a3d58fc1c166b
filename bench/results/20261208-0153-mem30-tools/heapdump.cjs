// mem30 probe: every 5 s, each isolate writes its V8 heap space statistics to $MEM30_HEAPDIR.
const dir = process.env.MEM30_HEAPDIR;
if (dir) {
  const v8 = require('node:v8'); const fs = require('node:fs');
  let tid = 0; try { tid = require('node:worker_threads').threadId; } catch {}
  const dump = () => {
    const s = v8.getHeapSpaceStatistics().map((x) => [x.space_name, Math.round(x.space_size / 1024), Math.round(x.physical_space_size / 1024), Math.round(x.space_used_size / 1024)]);
    const h = v8.getHeapStatistics();
    fs.writeFileSync(`${dir}/heap-${process.pid}-${tid}.json`, JSON.stringify({ tid, spaces: s, total_physical_kb: Math.round(h.total_physical_size / 1024), malloced_kb: Math.round(h.malloced_memory / 1024), external_kb: Math.round(h.external_memory / 1024), ctx: h.number_of_native_contexts }));
  };
  setInterval(dump, 5000).unref(); 
}
