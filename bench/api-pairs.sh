#!/usr/bin/env bash
# Paired base/candidate runs of issue 14's API reading on a warm relay (api27): api-send --before BASE_DIST, 50 clients,
# the raw-socket client (as bench/api-target.sh), WARM warm-up messages, closed loop (and open loop at 1,000 msg/s with
# LOOPS="closed open"), PAIRS pairs a store, the load average before each invocation. Summary: bench/api-pairs.py.
#   bench/api-pairs.sh BASE_DIST OUT_PREFIX [PAIRS=6] [STORES="sqlite postgres"] [MESSAGES=3000] [WARM=5000]
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
BASE=$1; OUT=$2; PAIRS=${3:-6}; STORES=${4:-sqlite postgres}; MESSAGES=${MESSAGES:-3000}; WARM=${WARM:-5000}
export PL_BENCH_CLIENT=${PL_BENCH_CLIENT:-raw}
for loop in ${LOOPS:-closed}; do
  for store in $STORES; do
    echo "# $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT-$loop-$store.txt"
    nice -n 5 node "$HERE/dist/bench/api-send.js" --store "$store" --clients 50 --messages "$MESSAGES" --runs "$PAIRS" --warmup "$WARM" \
      --before "$BASE" $([ "$loop" = open ] && echo "--rate 1000") >> "$OUT-$loop-$store.txt" 2>&1
    echo "# $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT-$loop-$store.txt"
  done
done
