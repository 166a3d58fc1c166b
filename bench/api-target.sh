#!/usr/bin/env bash
# Issue 14's API target read four ways on each store, interleaved (one run of each mode per round, ROUNDS rounds):
# closed loop at 50 clients and open loop at 1,000 msg/s with at most 50 in flight (bench/api-send.ts --rate), each
# after api-send's usual 100 warm-up messages and after WARM_LONG (a relay past its JIT tier-up: bench/README.md,
# twenty-fourth session, api24). One JSON line per run in OUT (API_BENCH_JSON); summary: bench/api-target.py OUT.
#   bench/api-target.sh OUT [ROUNDS=3] [STORES="sqlite postgres"] [MESSAGES=3000] [WARM_LONG=5000]
# The client is api-client.ts's raw-socket one (PL_BENCH_CLIENT=raw; PL_BENCH_CLIENT=undici for undici's Pool, what
# api-send uses by default): it sends the same requests with the same timing for about half the CPU (0.15-0.18 against
# 0.29-0.39 ms a message), which on a 2-core host is taken from the relay under test (bench/README.md, twenty-fifth
# session: api25's attribution, and the lead's pairs of the two clients); Debian's wrk agrees with it in the closed loop.
set -euo pipefail
export PL_BENCH_CLIENT=${PL_BENCH_CLIENT:-raw}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$1; ROUNDS=${2:-3}; STORES=${3:-sqlite postgres}; MESSAGES=${MESSAGES:-3000}; WARM_LONG=${WARM_LONG:-5000}
for store in $STORES; do
  for r in $(seq 1 "$ROUNDS"); do
    for warm in 100 "$WARM_LONG"; do
      for rate in 0 1000; do
        API_BENCH_JSON="$OUT" API_BENCH_TAG="warm=$warm" node "$ROOT/dist/bench/api-send.js" --store "$store" --clients 50 --messages "$MESSAGES" \
          --runs 1 --warmup "$warm" $([ "$rate" != 0 ] && echo "--rate $rate") | grep -v '^  run' || true
      done
    done
  done
done
