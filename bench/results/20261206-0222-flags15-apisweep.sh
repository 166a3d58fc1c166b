#!/bin/bash
# flags15: API relay CPU/msg and msg/s per V8 flag setting, one run of each setting per round,
# order reversed every other round (C first/last), 50 clients, 3000 messages, warmup 100.
# usage: apisweep.sh STORE ROUNDS OUT   (runs from /work/wt-flags15, dist built from integ15)
cd /work/wt-flags15
store=$1 rounds=$2 out=$3
declare -A F=(
  [C]="--max-semi-space-size=2 --heap-growing-percent=30"
  [S4G30]="--max-semi-space-size=4 --heap-growing-percent=30"
  [S8G30]="--max-semi-space-size=8 --heap-growing-percent=30"
  [S2Gd]="--max-semi-space-size=2"
  [S4Gd]="--max-semi-space-size=4"
  [S8Gd]="--max-semi-space-size=8"
  [min2]="--min-semi-space-size=2 --max-semi-space-size=2 --heap-growing-percent=30"
)
order=(${ORDER:-C S8G30 S2Gd S4G30 S8Gd S4Gd min2})  # ORDER="C min2 …": a subset
echo "store $store; load $(cat /proc/loadavg); $(date -u +%T)" >> $out
port=46400
for r in $(seq 1 $rounds); do
  if [ $((r % 2)) = 1 ]; then seq=("${order[@]}"); else seq=(); for ((k=${#order[@]}-1;k>=0;k--)); do seq+=("${order[k]}"); done; fi
  for s in "${seq[@]}"; do
    port=$((port + 1)); [ $port -gt 46420 ] && port=46401
    line=$(PL_BENCH_API_HOST=127.0.64.1 PL_BENCH_API_PORT=$port PL_BENCH_DB_PREFIX=flags15_api nice -n 5 node dist/bench/api-send.js --store $store --clients 50 --messages 3000 --runs 1 --server-flags="${F[$s]}" 2>&1 | grep "run 1")
    echo "round $r $s (load $(cut -d' ' -f1 /proc/loadavg)): $line" >> $out
  done
done
echo "end load $(cat /proc/loadavg); $(date -u +%T)" >> $out
