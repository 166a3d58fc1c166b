#!/bin/bash
# usage: perf-api.sh BUILD_ROOT STORE OUT_PREFIX : api-send one run (50 clients, 4000 msgs) with the relay under perf record (cpu-clock, main thread by tid later)
ROOT=$1; STORE=$2; OUT=$3
cd $ROOT
export PL_BENCH_API_HOST=127.0.63.1 PL_BENCH_API_PORT=28190 PL_BENCH_DB_PREFIX=api19_bench
nice -n 5 node dist/bench/api-send.js --store $STORE --clients 50 --messages 4000 --runs 1 --warmup 1000 --server-flags="--max-semi-space-size=2 --heap-growing-percent=30 --perf-basic-prof" > $OUT.api-send.txt 2>&1 &
AS=$!
for i in $(seq 1 100); do SP=$(pgrep -P $AS -f api-server.js | head -1); [ -n "$SP" ] && break; sleep 0.1; done
echo "server pid $SP"
# wait for the warm-up to end: the client process for the warm-up exits; crude: sleep until the second client process appears
for i in $(seq 1 400); do n=$(pgrep -P $AS -f api-client.js | head -1); [ -n "$n" ] && break; sleep 0.05; done
W1=$n; while kill -0 $W1 2>/dev/null; do sleep 0.05; done
perf record -e cpu-clock -F 4000 -p $SP -o $OUT.perf.data > $OUT.perf.log 2>&1 &
PP=$!
wait $AS
kill -INT $PP 2>/dev/null; wait $PP
cp /tmp/perf-$SP.map $OUT.map 2>/dev/null
echo "main tid $SP"
echo $SP > $OUT.pid
