#!/usr/bin/env bash
# Throughput of 1, 2 and 3 Postlane nodes on one PostgreSQL database (behind HAProxy, round-robin),
# with the shared harness (../shared/bench: smtp-source → HAProxy → nodes → smtp-sink), plus one
# SQLite node through the same HAProxy for context. Configurations are interleaved in every
# repetition (order reversed on even ones, the builds' order too: a build run later in a repetition
# was measured slower, pg26); every PostgreSQL run gets a fresh database.
#   bench/cluster.sh [MESSAGES=3000] [REPS=3]   results in bench/results/<date>-cluster-<n>.jsonl
# Addresses: RELAY_HOST/RELAY_PORT (HAProxy; node i listens on RELAY_PORT+i) and SINK_HOST/SINK_PORT
# pass through to the harness (its defaults 127.0.10.1:18025, 127.0.10.9:18099); CLUSTER_PG_URL,
# CLUSTER_DB_PREFIX (relays/postlane-cluster.sh); CLUSTER_WARMUP warm-up messages (default 200, spread
# over the nodes by HAProxy: each of 3 nodes warms up on a third of them).
# CLUSTER_SIZE message size (default 4096). With a private server that loads pg_stat_statements,
# CLUSTER_STATS_DIR=DIR records each run's statements, WAL and table/index counters there, and
# CLUSTER_WALDUMP=PGDATA (that server's data directory) its WAL a message by relation (pg-wal-by-relation.py).
# Needs Debian's postfix (smtp-source, smtp-sink), haproxy, psql, PostgreSQL on 127.0.0.1:5432
# (CLUSTER_PG_URL) and a built dist/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-3000} REPS=${2:-3}
SHARED=${SHARED_BENCH:-$ROOT/../shared/bench}
WORK=$(mktemp -d /tmp/postlane-bench.XXXX)
cp -r "$SHARED"/. "$WORK"/
chmod -R u+w "$WORK"; chmod 755 "$WORK"
cp "$ROOT/bench/relays/postlane-cluster.sh" "$WORK/relays/postlane-cluster.sh"
export CLUSTER_WALDUMP_TOOL=${CLUSTER_WALDUMP_TOOL:-$ROOT/bench/pg-wal-by-relation.py} CLUSTER_MSGS=${CLUSTER_MSGS:-$((N + ${CLUSTER_WARMUP:-200}))}
mkdir -p "$ROOT/bench/results"
OUT=${CLUSTER_OUT:-$ROOT/bench/results/$(date +%Y%m%d-%H%M)-cluster-$N.jsonl}
# Private builds of committed trees (BENCH_REF, default HEAD; BENCH_REFS="main cluster" interleaves
# several builds in every repetition, each result's variant naming its build's short hash).
. "$ROOT/bench/build-ref.sh"
read -r -a REFS <<<"${BENCH_REFS:-${BENCH_REF:-HEAD}}"
declare -A BUILD
for ref in "${REFS[@]}"; do
    BUILD[$ref]=$(git -C "$ROOT" rev-parse --short "$ref")
    build_ref "$ROOT" "$ref" "$WORK/postlane-${BUILD[$ref]}" || exit 1
    echo "=== built $ref (${BUILD[$ref]})" >&2
done
# CLUSTER_CONFIGS="pg 1,pg 3" runs a subset (default: all four)
IFS=, read -r -a CONFIGS <<<"${CLUSTER_CONFIGS:-sqlite 1,pg 1,pg 2,pg 3}"
for rep in $(seq 1 "$REPS"); do
    order=("${CONFIGS[@]}")
    if [ $((rep % 2)) = 0 ]; then order=(); for ((i=${#CONFIGS[@]}-1; i>=0; i--)); do order+=("${CONFIGS[$i]}"); done; fi
    for cfg in "${order[@]}"; do
      refs=("${REFS[@]}")
      if [ $((rep % 2)) = 0 ]; then refs=(); for ((i=${#REFS[@]}-1; i>=0; i--)); do refs+=("${REFS[$i]}"); done; fi
      for ref in "${refs[@]}"; do
        read -r store nodes <<<"$cfg"
        build=${BUILD[$ref]}
        echo "=== $(date +%T) rep=$rep store=$store nodes=$nodes build=$build" >&2
        BENCH_POSTLANE_ROOT=$WORK/postlane-$build CLUSTER_STORE=$store CLUSTER_NODES=$nodes \
            VARIANT="store=$store nodes=$nodes rep=$rep$([ ${#REFS[@]} -gt 1 ] && echo " build=$build")" \
            "$WORK/relay-bench.sh" -r postlane-cluster -l cluster -o "$OUT" -T 300 -w "${CLUSTER_WARMUP:-200}" -n "$N" -c 20 -s "${CLUSTER_SIZE:-4096}" -R 1 >/dev/null \
            || echo "run failed: $cfg $build rep $rep" >&2
        # add the PostgreSQL backends' CPU (from start, so per message over warm-up + measured)
        run=$(ls -td "$WORK"/runs/* | head -1)
        python3 - "$OUT" "$run/relay/pg_cpu_s" "$run/relay/pg_backends.tsv" <<'PY'
import json, os, sys
out, f, bf = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(out).read().splitlines()
r = json.loads(lines[-1])
if "pg_cpu_s" not in r:
    cpu = float(open(f).read()) if os.path.exists(f) else 0.0
    r["pg_cpu_s"] = cpu
    r["pg_cpu_ms_per_msg"] = round(cpu * 1000 / (r["n"] + r["warmup"]), 3)
    # per backend: pid, CPU ticks, voluntary and involuntary context switches (wake-ups), last statement
    if os.path.exists(bf):
        b = [l.split("\t") for l in open(bf).read().splitlines() if l.strip()]
        m = r["n"] + r["warmup"]
        r["pg_backends"] = len(b)
        r["pg_vcs_per_msg"] = round(sum(int(x[2]) for x in b) / m, 2)
        r["pg_ivcs_per_msg"] = round(sum(int(x[3]) for x in b) / m, 2)
        with open(out[:-len(".jsonl")] + "-backends.tsv", "a") as t:
            for x in b: t.write(r["variant"] + "\t" + "\t".join(x) + "\n")
    lines[-1] = json.dumps(r)
    open(out, "w").write("\n".join(lines) + "\n")
PY
      done
    done
done
[ "${KEEP_RUN:-0}" = 1 ] || rm -rf "$WORK"
python3 "$ROOT/bench/cluster-summary.py" "$OUT"
