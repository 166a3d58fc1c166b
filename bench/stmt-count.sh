#!/usr/bin/env bash
# SQLite statements and structured-clone values per message (bench/stmt-count.cjs), without valgrind:
# the relay of a built tree runs with the hook, a warm-up, a snapshot, N messages (through the sink),
# a snapshot; bench/stmt-count.py prints the difference per message (statements by SQL text, values
# cloned by op). Addresses and ports as bench/instr.sh (INSTR_HOST, INSTR_SINK_HOST, INSTR_PORT,
# INSTR_SLOT, INSTR_RCPTS, INSTR_DOMS, INSTR_WARM, INSTR_C, INSTR_SIZE).
#   bench/stmt-count.sh BUILD_DIR [N=1000] [OUT.json]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:?usage: bench/stmt-count.sh BUILD_DIR [N] [OUT.json]}" && pwd)
N=${2:-1000}; OUT=${3:-/dev/stdout}
SLOT=${INSTR_SLOT:-0}
HOST=${INSTR_HOST:-127.0.15.1} PORT=$((${INSTR_PORT:-45025} + 10 * SLOT)) SINK_HOST=${INSTR_SINK_HOST:-127.0.15.9} SINK_PORT=$((${INSTR_PORT:-45025} + 4 + 10 * SLOT))
WARM=${INSTR_WARM:-300} C=${INSTR_C:-20} SIZE=${INSTR_SIZE:-4096}
SC=${SHARED_BENCH:-$ROOT/../shared/bench}/lib/sinkcount.py
RCPTS=${INSTR_RCPTS:-1} DOMS=${INSTR_DOMS:-dst.test}
MGEN=/tmp/postlane-instr-mgen-$(id -u)
[ -x "$MGEN" ] || gcc -O2 -pthread -o "$MGEN" "${SHARED_BENCH:-$ROOT/../shared/bench}/tools/mgen.c"
WORK=$(mktemp -d /tmp/postlane-stmt.XXXX); chmod 755 "$WORK"
RELAY_PID="" SINK_PID="" DUMPDIR=""
cleanup() {
    set +e
    [ -n "$RELAY_PID" ] && { kill -TERM "$RELAY_PID" 2>/dev/null; for _ in $(seq 300); do kill -0 "$RELAY_PID" 2>/dev/null || break; sleep 0.1; done; kill -KILL "$RELAY_PID" 2>/dev/null; }
    [ -n "$SINK_PID" ] && { kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; }
    [ -n "$DUMPDIR" ] && rm -rf "$DUMPDIR"
    [ "${INSTR_KEEP:-0}" = 1 ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT
RELAY_DIR=$WORK RELAY_HOST=$HOST RELAY_PORT=$PORT
. "$ROOT/bench/relays/postlane.sh"
relay_setup
sed -i '/^http:/d' "$WORK/postlane.yaml"
printf 'http: { host: %s, port: %s }\n' "$HOST" "$((PORT + 1))" >> "$WORK/postlane.yaml"
sed -i 's/^delivery:$/delivery:\n  pollInterval: 1h/' "$WORK/postlane.yaml"
printf 'webhooks: { pollInterval: 1h }\n' >> "$WORK/postlane.yaml"
DUMPDIR=$(mktemp -d /dev/shm/postlane-stmt-dump.XXXX); chown nobody "$DUMPDIR"; DUMP=$DUMPDIR/dump
smtp-sink -u nobody -c -D "$DUMP" "$SINK_HOST:$SINK_PORT" 1024 >"$WORK/sink.out" 2>"$WORK/sink.err" &
SINK_PID=$!
mkdir -p "$WORK/counts"
(cd "$WORK" && STMT_COUNT_DIR=$WORK/counts STMT_COUNT_ROOT=$BUILD exec node --max-semi-space-size=2 --heap-growing-percent=30 \
    --require "$ROOT/bench/stmt-count.cjs" "$BUILD/bin/postlane.js" start --config "$WORK/postlane.yaml" >"$WORK/relay.log" 2>&1) &
RELAY_PID=$!
for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null && break
    kill -0 "$RELAY_PID" 2>/dev/null || { echo "relay exited:" >&2; tail -20 "$WORK/relay.log" >&2; exit 1; }
    sleep 0.2
done
rcpts_in() { python3 "$SC" now "$WORK/sink.out" "$DUMP" | cut -d' ' -f2; }
push() {
    local rt=$(( $(rcpts_in) + $1 * RCPTS ))
    "$MGEN" -s "$C" -m "$1" -l "$SIZE" -r "$RCPTS" -f sender@src.test -t "rcpt@$DOMS" -M gen.src.test "$HOST:$PORT" >>"$WORK/gen.out" 2>&1
    python3 "$SC" wait "$WORK/sink.out" "$DUMP" 0 "$rt" 1200 >/dev/null
}
push "$WARM"; sleep 2
mkdir "$WORK/before"; cp "$WORK"/counts/*.json "$WORK/before/"
push "$N"; sleep 2
mkdir "$WORK/after"; cp "$WORK"/counts/*.json "$WORK/after/"
python3 "$ROOT/bench/stmt-count.py" "$WORK/before" "$WORK/after" "$N" "$(cat "$BUILD/.instr-rev" 2>/dev/null || git -C "$BUILD" rev-parse --short HEAD 2>/dev/null || echo "$BUILD")" "$RCPTS" >"$OUT"
