#!/bin/bash
# The same build (main), interleaved: the standard run (100 warm-up messages) against a relay warmed by 10,000 messages first.
cd /work/wt-pgp99
out=bench/results/20261206-0150-pgp99-relay-warmup-pairs.txt
echo "load $(cat /proc/loadavg)" > $out
for i in 1 2 3 4; do
  for w in $( [ $((i % 2)) = 1 ] && echo "100 10000" || echo "10000 100" ); do
    PL_BENCH_API_HOST=127.0.63.1 PL_BENCH_API_PORT=$((46320 + i * 2 + (w == 100 ? 0 : 1))) PL_BENCH_DB_PREFIX=pgp99_api nice -n 5 node dist/bench/api-send.js --store postgres --clients 50 --messages 3000 --runs 1 --warmup $w 2>&1 | grep "run 1" | sed "s/^/pair $i warmup $w: /" >> $out
  done
done
echo "load $(cat /proc/loadavg)" >> $out
