#!/usr/bin/env bash
# The HTTP API relay's JIT tier-up, in chunks: bench/api-server.js (this checkout's) runs the relay of ROOT/dist on SQLite
# with the launcher's heap flags and TRACE_FLAGS (default --trace-opt --trace-deopt-verbose; its stdout, the traces, in
# OUT), driven by bench/api-client.js at 50 clients: WARM messages, then CHUNKS chunks of MSGS, a 'cpu' line written into
# OUT after each, so that bench/api-tierup.py OUT WARM,MSGS,MSGS,... counts the TurboFan compilations and deopts of each
# chunk and its relay / main-thread CPU a message (bench/README.md, twenty-fourth session, api24).
#   bench/api-tierup.sh ROOT OUT [WARM=100] [MSGS=1000] [CHUNKS=6]    (PL_BENCH_API_HOST / PL_BENCH_API_PORT as api-send)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
ROOT=$1; OUT=$2; WARM=${3:-100}; MSGS=${4:-1000}; CHUNKS=${5:-6}
CTL=$(mktemp -u /tmp/api-tierup.XXXX); mkfifo "$CTL"
node ${TRACE_FLAGS:---trace-opt --trace-deopt-verbose} --max-semi-space-size=2 --heap-growing-percent=30 "$HERE/dist/bench/api-server.js" "$ROOT/dist" sqlite < "$CTL" > "$OUT" &
S=$!
exec 3>"$CTL"
L=
for _ in $(seq 1 200); do L=$(grep -a '^{"host"' "$OUT" | head -1 || true); [ -n "$L" ] && break; sleep 0.1; done
URL=$(echo "$L" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("http://%s:%s/v1/messages" % (d["host"], d["port"]))')
TOK=$(echo "$L" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
node "$HERE/dist/bench/api-client.js" "$URL" "$TOK" 50 "$WARM" >/dev/null; echo cpu >&3; sleep 0.3
for _ in $(seq 1 "$CHUNKS"); do node "$HERE/dist/bench/api-client.js" "$URL" "$TOK" 50 "$MSGS" >/dev/null; echo cpu >&3; sleep 0.3; done
echo stop >&3; exec 3>&-
wait $S; rm -f "$CTL"
