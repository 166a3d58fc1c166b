#!/usr/bin/env bash
# Idle cost of clustering: N Postlane nodes on one fresh PostgreSQL database with no mail at all,
# CPU of the nodes (/proc, per node) and of the PostgreSQL backends serving the database, over
# SECONDS after a 10 s settle (start-up is reported apart). 1 and 3 nodes (CLUSTER_IDLE_NODES),
# interleaved, order reversed on even repetitions; BENCH_REFS="main cluster" interleaves builds.
#   bench/cluster-idle.sh [SECONDS=60] [REPS=2]   results in bench/results/<date>-cluster-idle.jsonl
# Uses the cluster plugin (bench/relays/postlane-cluster.sh) for the configuration, start and stop.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-60} REPS=${2:-2}
WORK=$(mktemp -d /tmp/postlane-idle.XXXX)
OUT=${CLUSTER_OUT:-$ROOT/bench/results/$(date +%Y%m%d-%H%M)-cluster-idle.jsonl}
. "$ROOT/bench/build-ref.sh"
. "$ROOT/bench/relays/postlane-cluster.sh"
read -r -a REFS <<<"${BENCH_REFS:-${BENCH_REF:-HEAD}}"
read -r -a NODES <<<"${CLUSTER_IDLE_NODES:-1 3}"
declare -A BUILD
for ref in "${REFS[@]}"; do
    BUILD[$ref]=$(git -C "$ROOT" rev-parse --short "$ref")
    build_ref "$ROOT" "$ref" "$WORK/postlane-${BUILD[$ref]}" || exit 1
done
export RELAY_HOST=127.0.0.1 SINK_HOST=127.0.0.1 SINK_PORT=9 # nothing is ever sent
node_cpu() { # CPU seconds of every node process
    python3 - "$RELAY_DIR"/node*.pid <<'PY'
import os, sys
t = 0
for f in sys.argv[1:]:
    try:
        st = open(f"/proc/{open(f).read().strip()}/stat").read().rsplit(")", 1)[1].split()
        t += int(st[11]) + int(st[12])
    except OSError: pass
print(t / os.sysconf("SC_CLK_TCK"))
PY
}
run_one() { # run_one BUILD NODES REP
    export RELAY_DIR=$WORK/run-$1-$2-$3 RELAY_PORT=$((26000 + RANDOM % 2000)) CLUSTER_NODES=$2 CLUSTER_STORE=pg
    export BENCH_POSTLANE_ROOT=$WORK/postlane-$1
    relay_setup; relay_start
    sleep 10
    local n0 p0 n1 p1; n0=$(node_cpu); p0=$(cluster_pg_cpu)
    sleep "$SECS"
    n1=$(node_cpu); p1=$(cluster_pg_cpu)
    relay_stop
    python3 -c "import json,sys; b,n,r,s,n0,p0,n1,p1=sys.argv[1:]; n=int(n); s=float(s)
print(json.dumps({'build':b,'nodes':n,'rep':int(r),'seconds':s,'startup_node_cpu_s':round(float(n0),2),'startup_pg_cpu_s':round(float(p0),2),
  'idle_node_cpu_ms_per_s':round((float(n1)-float(n0))*1000/s,2),'idle_node_cpu_ms_per_s_per_node':round((float(n1)-float(n0))*1000/s/n,2),
  'idle_pg_cpu_ms_per_s':round((float(p1)-float(p0))*1000/s,2),'loadavg':open('/proc/loadavg').read().split()[0]}))" \
        "$1" "$2" "$3" "$SECS" "$n0" "$p0" "$n1" "$p1" | tee -a "$OUT"
}
for rep in $(seq 1 "$REPS"); do
    order=("${NODES[@]}"); [ $((rep % 2)) = 0 ] && order=($(printf '%s\n' "${NODES[@]}" | tac))
    for n in "${order[@]}"; do for ref in "${REFS[@]}"; do run_one "${BUILD[$ref]}" "$n" "$rep"; done; done
done
rm -rf "$WORK"
