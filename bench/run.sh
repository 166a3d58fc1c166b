#!/usr/bin/env bash
# Throughput of Postlane side by side with the Postfix reference, with the shared harness
# (../shared/bench): smtp-source → relay → smtp-sink, systems interleaved in one campaign.
#   bench/run.sh [WORKLOAD=i-3k] [REPS=3]      results in bench/results/<date>-<workload>.jsonl
# Needs Debian's postfix (smtp-source, smtp-sink, the reference) and a built dist/ (npm run build).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WL=${1:-i-3k} REPS=${2:-3}
SHARED=${SHARED_BENCH:-$ROOT/../shared/bench}
WORK=$(mktemp -d /tmp/postlane-bench.XXXX)
cp -r "$SHARED"/. "$WORK"/
chmod -R u+w "$WORK"; chmod 755 "$WORK"   # postfix (user postfix) must reach its run dirs
cp "$ROOT/bench/relays/postlane.sh" "$WORK/relays/postlane.sh"
mkdir -p "$ROOT/bench/results"
OUT="$ROOT/bench/results/$(date +%Y%m%d-%H%M)-$WL.jsonl"
export BENCH_POSTLANE_ROOT=$ROOT
"$WORK/run-anchors.sh" "$WL" "$REPS" "$OUT" postfix postlane
python3 "$WORK/lib/summarize.py" "$OUT"
