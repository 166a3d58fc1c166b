// Preload (`node --require bench/thread-cpu.cjs …`, or PL_PRELOAD= in relays/postlane-variant.sh):
// every second, writes each thread's cumulative CPU (utime and stime, clock ticks, from
// /proc/self/task/*/stat) to $MEM_SAMPLE_DIR/threads.txt, overwriting it; the last sample before
// the relay stops tells main thread, SQLite worker, V8's helper threads (GC) and libuv's pool apart
// (all are named "node": the main thread's id is the pid, the others go by creation order).
// Bench only; keep the run directory (KEEP_RUN=1) to read it.
const fs = require('node:fs');
const out = `${process.env.MEM_SAMPLE_DIR || '/tmp'}/threads.txt`;
setInterval(() => {
  const lines = [];
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const s = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      lines.push(`${tid} ${s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'))} ${f[11]} ${f[12]}`);
    } catch { /* the thread ended */ }
  }
  fs.writeFileSync(out, `${Date.now()}\ntid name utime stime\n${lines.join('\n')}\n`);
}, 1000).unref();
