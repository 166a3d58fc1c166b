#!/usr/bin/env bash
# Throughput of Postlane side by side with the Postfix reference, with the shared harness
# (../shared/bench): smtp-source → relay → smtp-sink, systems interleaved in one campaign.
#   bench/run.sh [WORKLOAD=i-3k] [REPS=3]   one workload; results in bench/results/<date>-<workload>.jsonl
#   bench/run.sh all [REPS=1]               the four relay workloads (i ii iii i-keep, full size) and the
#                                           HTTP API benchmark (closed loop at 1, 20, 50 clients and open loop
#                                           at 1,000 msg/s with at most 50 in flight), one table (bench/summarize-all.py);
#                                           results in bench/results/<date>-all.jsonl (+ -all-api.jsonl).
#                                           ALL_WORKLOADS="i-3k ii-500" picks others; ALL_API=0 skips the API.
# PEERS="haraka" (or haraka-n2: two worker processes) adds the harness's other relays to every campaign,
# interleaved with Postfix and Postlane; Haraka 3.3.4 (the version of ../shared/bench/RESULTS.md) is
# installed from the npm registry on first use into HARAKA_HOME (default ~/.cache/postlane-bench/haraka).
# NODE_LINES="24 26" also runs this tree on those Node.js lines (the pins of .ci/node-matrix.sh, which
# fetches each Node, builds a copy of the tree with it, better-sqlite3 compiled for its ABI), as relays
# postlane-node24, postlane-node26: the same launcher and flags, another `node` first in PATH.
# Memory: bench/procmon.py replaces the harness's sampler in the copy (same PSS peak) and adds the
# anonymous-memory peaks (Pss_Anon summed over the relay's processes, without the binaries' pages);
# bench/add-anon.py puts them into the result lines, bench/summarize-all.py prints both columns.
# RELAY_HOST/RELAY_PORT/SINK_HOST/SINK_PORT in the environment pick the addresses (relay-bench.sh).
# Needs Debian's postfix (smtp-source, smtp-sink, the reference) and a built dist/ (npm run build;
# `all` also builds bench/ for the API benchmark, before the bundle is made again).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WL=${1:-i-3k}
if [ "$WL" = all ]; then REPS=${2:-1}; else REPS=${2:-3}; fi
SHARED=${SHARED_BENCH:-$ROOT/../shared/bench}
WORK=$(mktemp -d /tmp/postlane-bench.XXXX)
cp -r "$SHARED"/. "$WORK"/
chmod -R u+w "$WORK"; chmod 755 "$WORK"   # postfix (user postfix) must reach its run dirs
cp "$ROOT/bench/relays/postlane.sh" "$WORK/relays/postlane.sh"
# our procmon (bench/procmon.py): the shared one's, plus the anonymous-memory peaks (Pss_Anon, Anonymous)
mv "$WORK/lib/procmon.py" "$WORK/lib/procmon_shared.py"
cp "$ROOT/bench/procmon.py" "$WORK/lib/procmon.py"
PEERS=${PEERS:-}
if [[ " $PEERS " == *" haraka"* ]]; then
    export HARAKA_HOME=${HARAKA_HOME:-$HOME/.cache/postlane-bench/haraka}
    if [ ! -x "$HARAKA_HOME/node_modules/Haraka/bin/haraka" ]; then
        echo "=== installing Haraka 3.3.4 into $HARAKA_HOME (npm registry)" >&2
        mkdir -p "$HARAKA_HOME" && npm install --prefix "$HARAKA_HOME" --no-audit --no-fund --loglevel=error Haraka@3.3.4 >&2
    fi
fi
NODE_RELAYS=
if [ -n "${NODE_LINES:-}" ]; then
    build='npx tsc -p tsconfig.json && node scripts/bundle.mjs >/dev/null && node -p "process.version"'
    MATRIX_LOG=$WORK/node-matrix.log
    POSTLANE_MATRIX_KEEP=1 POSTLANE_NODE_MATRIX="$NODE_LINES" POSTLANE_MATRIX_TEST="$build" \
        bash "$ROOT/.ci/node-matrix.sh" >"$MATRIX_LOG" 2>&1 || { tail -20 "$MATRIX_LOG" >&2; exit 1; }
    for dir in $(sed -n 's/^node-matrix: tree copied to \(.*\); fetched.*/\1/p' "$MATRIX_LOG"); do
        name=postlane-node$("$dir/bin/node" -p 'process.versions.node.split(".")[0]')
        printf 'export PATH=%q/bin:$PATH BENCH_POSTLANE_ROOT=%q/tree\nsource "$(dirname "${BASH_SOURCE[0]}")/postlane.sh"\n' \
            "$dir" "$dir" >"$WORK/relays/$name.sh"
        NODE_RELAYS+=" $name"; NODE_TREES+=("$dir")
    done
    trap 'rm -rf "${NODE_TREES[@]}"' EXIT
    echo "=== Node lines:$NODE_RELAYS (each a copy of this tree built with that Node)" >&2
fi
mkdir -p "$ROOT/bench/results"
OUT="$ROOT/bench/results/$(date +%Y%m%d-%H%M)-$WL.jsonl"
export BENCH_POSTLANE_ROOT=$ROOT
# The launcher runs dist/bundle only while no tsc output it was made from is newer (bin/postlane.js);
# otherwise dist/src, unbundled, ~7 MB more. `tsc -p bench/tsconfig.json` rewrites dist/src/store/… (its
# tsconfig includes them), so bench/ is built first and the bundle made again before any relay runs
# (the twentieth session's first `all` ran dist/src after such a build: peak PSS +7 MB on every workload).
if [ "$WL" = all ] && [ "${ALL_API:-1}" != 0 ]; then (cd "$ROOT" && npx tsc -p bench/tsconfig.json); fi
(cd "$ROOT" && node scripts/bundle.mjs)

if [ "$WL" != all ]; then
    "$WORK/run-anchors.sh" "$WL" "$REPS" "$OUT" postfix $PEERS postlane $NODE_RELAYS
    python3 "$ROOT/bench/add-anon.py" "$OUT" "$WORK/runs"
    python3 "$WORK/lib/summarize.py" "$OUT"
    echo; python3 "$ROOT/bench/summarize-all.py" "$OUT"
    exit 0
fi

API_OUT="${OUT%.jsonl}-api.jsonl"
echo "=== $(date +%T) all: workloads ${ALL_WORKLOADS:-i ii iii i-keep}, $REPS repetition(s), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for w in ${ALL_WORKLOADS:-i ii iii i-keep}; do
    "$WORK/run-anchors.sh" "$w" "$REPS" "$OUT" postfix $PEERS postlane $NODE_RELAYS
done
if [ "${ALL_API:-1}" != 0 ]; then
    echo "=== $(date +%T) HTTP API (bench/api-send.ts)" >&2
    API_BENCH_JSON="$API_OUT" node "$ROOT/dist/bench/api-send.js" >&2
    # issue 14's target read open-loop too: 1,000 msg/s due on a fixed schedule, at most 50 in flight (latency from the due time)
    API_BENCH_JSON="$API_OUT" node "$ROOT/dist/bench/api-send.js" --clients 50 --rate 1000 >&2
fi
python3 "$ROOT/bench/add-anon.py" "$OUT" "$WORK/runs"
python3 "$ROOT/bench/summarize-all.py" "$OUT" "$API_OUT"
