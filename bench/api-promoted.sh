#!/usr/bin/env bash
# What a warm API relay promotes to the old space a request, on either store (api27): bench/api-server.js (this
# checkout's) runs the relay of ROOT/dist on STORE with ROOT's launcher flags (the first line of ROOT/bin/postlane.js, as
# bench/api-send.ts reads them) and TRACE_FLAGS (default --trace-gc-nvp; its stdout in OUT),
# driven by bench/api-client.js at 50 clients (closed loop): WARM messages, then CHUNKS chunks of MSGS, a 'cpu' line
# after each, so that `bench/api-promoted.py OUT WARM,MSGS,...` gives the young-generation bytes allocated and promoted a
# message and the mark-compacts of each chunk. ALLOC=DIR: bench/alloc-sample.cjs preloaded with ALLOC_PROMOTED=1, started
# after the warm-up (SIGUSR2), its profile written to DIR at exit (bench/heapprof-sites.py DIR/alloc-PID-*.heapprofile).
#   bench/api-promoted.sh ROOT OUT [STORE=sqlite] [WARM=5000] [MSGS=2000] [CHUNKS=3]   (PL_BENCH_API_HOST / _PORT as api-send)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
ROOT=$1; OUT=$2; STORE=${3:-sqlite}; WARM=${4:-5000}; MSGS=${5:-2000}; CHUNKS=${6:-3}
CTL=$(mktemp -u /tmp/api-promoted.XXXX); mkfifo "$CTL"
read -r -a FLAGS <<<"$(sed -n '1s/^#!.* node //p' "$ROOT/bin/postlane.js")"
PRE=()
if [ -n "${ALLOC:-}" ]; then PRE=(--require "$HERE/bench/alloc-sample.cjs"); export ALLOC_DIR=$ALLOC ALLOC_PROMOTED=1 ALLOC_ON_SIGNAL=1; fi
node ${TRACE_FLAGS:---trace-gc-nvp} "${FLAGS[@]}" "${PRE[@]}" "$HERE/dist/bench/api-server.js" "$ROOT/dist" "$STORE" < "$CTL" > "$OUT" &
S=$!
exec 3>"$CTL"
L=
for _ in $(seq 1 300); do L=$(grep -a '^{"host"' "$OUT" | head -1 || true); [ -n "$L" ] && break; sleep 0.1; done
URL=$(echo "$L" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("http://%s:%s/v1/messages" % (d["host"], d["port"]))')
TOK=$(echo "$L" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
node "$HERE/dist/bench/api-client.js" "$URL" "$TOK" 50 "$WARM" >/dev/null; echo cpu >&3; sleep 0.3
[ -n "${ALLOC:-}" ] && kill -USR2 $S
for _ in $(seq 1 "$CHUNKS"); do node "$HERE/dist/bench/api-client.js" "$URL" "$TOK" 50 "$MSGS" >/dev/null; echo cpu >&3; sleep 0.3; done
echo stop >&3; exec 3>&-
wait $S; rm -f "$CTL"
