#!/bin/bash
# The same build (main + bench changes), interleaved: the standard run with no V8 flag against the run with FLAGS on the relay.
cd /work/wt-pgp99
flags="$1"; out="$2"; base=$3
echo "flags: '$flags'; load $(cat /proc/loadavg)" > $out
for i in 1 2 3 4; do
  for v in $( [ $((i % 2)) = 1 ] && echo "none flags" || echo "flags none" ); do
    f=$( [ $v = flags ] && echo "$flags" || echo "" )
    PL_BENCH_API_HOST=127.0.63.1 PL_BENCH_API_PORT=$((base + i * 2 + $( [ $v = none ] && echo 0 || echo 1 ))) PL_BENCH_DB_PREFIX=pgp99_api nice -n 5 node dist/bench/api-send.js --store postgres --clients 50 --messages 3000 --runs 1 --server-flags="$f" 2>&1 | grep "run 1" | sed "s/^/pair $i $v: /" >> $out
  done
done
echo "load $(cat /proc/loadavg)" >> $out
