#!/usr/bin/env bash
# Instructions per message: a yardstick that the shared, noisy 2-core VM cannot move (issue 14).
# The relay of a built tree (bench/build-ref.sh's build_ref, or any checkout with dist/) runs under
# valgrind's callgrind, which counts the instructions every thread of the process executes (the
# SQLite worker, libuv's pool and V8's helper threads included; valgrind runs them one at a time).
# Counting is switched on after start-up and a warm-up (callgrind_control -i on, -z), a fixed load is
# pushed through (smtp-source -> relay -> smtp-sink), and they are dumped once the sink has every
# message and a short settle (callgrind_control -d); then the relay idles and is dumped again, so
# that its cost can be seen (not subtracted: mostly the memory reducer's GC). Prints one JSON line
# (also appended to OUT): instr_per_msg = Ir(load) / N, and its parts (bench/instr-split.py):
#   program_per_msg = JIT code + builtins + the rest of Node/V8 + SQLite + libc, without V8's compilers
#   and GC, which depend on timing (tier-up, heap growth): the steadier yardstick.
#
#   bench/instr.sh BUILD_DIR [N=100] [MODE=conn|keep] [OUT.jsonl]
#     conn: one connection per message (workload i); keep: sessions kept (smtp-source -d, i-keep)
#     api: N POSTs to /v1/messages (bench/api-client.js of this checkout: INSTR_C keep-alive clients, api-send's
#          3 KB JSON message), the account's sending domain acme.test with an Ed25519 DKIM key and a send key
#          made with the build's CLI before the relay starts. INSTR_API_DELIVER=0 (default): every message has
#          send_at 2 h ahead, so the count is the API path alone (accept, sign, put; no delivery, whose sessions
#          to the sink batch differently with the run's wall time); =1: delivered to the sink like conn/keep
# Environment:
#   INSTR_V8     V8 flags; default: the launcher's --max-semi-space-size=2 --heap-growing-percent=30, plus
#                --single-threaded --random-seed=1 --hash-seed=1 --no-memory-reducer --no-opt (Ignition and
#                Sparkplug only: TurboFan still compiles after 4,000 messages and its compiles are a third
#                of the count, differing run to run). INSTR_TIER=opt drops --no-opt (+-5 %, not a yardstick).
#                bench/README.md 2026-12-05 (eighth session) has the measurements.
#   INSTR_RCPTS (1) recipients per message; INSTR_DOMS (dst.test) their domains, comma-separated: with more than one
#                recipient the load comes from the shared harness's mgen (tools/mgen.c, built into /tmp once), which
#                spreads each message's recipients round-robin over the domains (workload iii: INSTR_RCPTS=10
#                INSTR_DOMS=a.test,b.test), and the sink is waited for by recipients (smtp-sink -D dump, as relay-bench.sh)
#   INSTR_WARM (300) warm-up messages   INSTR_C (20) client sessions   INSTR_SIZE (4096) body bytes
#   INSTR_IDLE (8) idle seconds measured after the load   INSTR_SETTLE (3) seconds after the sink is full
#   INSTR_SLOT (0) k: relay 127.0.15.1:45025+10k (API +1), sink 127.0.15.9:45029+10k, so that
#                two runs can go side by side (counts do not depend on the load of the machine)
#   INSTR_HOST, INSTR_SINK_HOST, INSTR_PORT (127.0.15.1, 127.0.15.9, 45025): the relay's and sink's addresses and the
#                first port (slot k adds 10k), for a helper's own loopback block and ports (several builds side by side)
#   INSTR_TIMERS (off) off: delivery/webhooks pollInterval 1h (below); on: the 1 s default polls
#   INSTR_STORAGE_URL (unset) postgres://…/DB: the relay's store is that PostgreSQL database (created empty
#                beforehand, one per run; the PostgreSQL server's own work is not counted), else SQLite in the run directory
#   INSTR_DUMPS (/tmp/postlane-instr-dumps) where the load and idle dumps are copied (callgrind_annotate)
#   INSTR_VG_EXTRA (unset) more valgrind options, e.g. --separate-threads=yes: one dump per thread (cg.out.1-01 the main
#                thread; the totals are summed over them) with the perf map kept next to the dumps (cpu17, seventeenth session)
#   INSTR_KEEP=1 keeps the run directory (config, logs, callgrind dumps for callgrind_annotate)
# Under valgrind the relay is ~50x slower: start-up takes 30-150 s (the wait here is 600 s; no product
# timeout is changed), a run of 100 messages 2-3 min on a quiet VM, 5-10 min at load 15.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:?usage: bench/instr.sh BUILD_DIR [N] [conn|keep] [OUT.jsonl]}" && pwd)
N=${2:-100}; MODE=${3:-conn}; OUT=${4:-}
case $MODE in conn|api) KEEPFLAG="" ;; keep) KEEPFLAG=-d ;; *) echo "MODE is conn, keep or api" >&2; exit 2 ;; esac
SLOT=${INSTR_SLOT:-0}
HOST=${INSTR_HOST:-127.0.15.1} PORT=$((${INSTR_PORT:-45025} + 10 * SLOT)) SINK_HOST=${INSTR_SINK_HOST:-127.0.15.9} SINK_PORT=$((${INSTR_PORT:-45025} + 4 + 10 * SLOT))
WARM=${INSTR_WARM:-300} C=${INSTR_C:-20} SIZE=${INSTR_SIZE:-4096} IDLE=${INSTR_IDLE:-8} SETTLE=${INSTR_SETTLE:-3}
V8_BASE="--max-semi-space-size=2 --heap-growing-percent=30 --single-threaded --random-seed=1 --hash-seed=1 --no-memory-reducer"
if [ "${INSTR_TIER:-base}" = opt ]; then V8_DEF=$V8_BASE; else V8_DEF="$V8_BASE --no-opt"; fi
V8=${INSTR_V8:-$V8_DEF}
SC=${SHARED_BENCH:-$ROOT/../shared/bench}/lib/sinkcount.py
RCPTS=${INSTR_RCPTS:-1} DOMS=${INSTR_DOMS:-dst.test}
if [ "$RCPTS" -gt 1 ]; then
    [ "$MODE" = api ] && { echo "INSTR_RCPTS applies to conn and keep" >&2; exit 2; }
    MGEN=/tmp/postlane-instr-mgen-$(id -u)
    [ -x "$MGEN" ] || gcc -O2 -pthread -o "$MGEN" "${SHARED_BENCH:-$ROOT/../shared/bench}/tools/mgen.c"
fi
[ -f "$BUILD/dist/src/cli/index.js" ] || { echo "$BUILD has no dist/src/cli/index.js (build_ref or npx tsc)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/postlane-instr.XXXX)
chmod 755 "$WORK"
RELAY_PID="" SINK_PID="" DUMPDIR=""
cleanup() {
    set +e
    if [ -n "$RELAY_PID" ]; then
        kill -TERM "$RELAY_PID" 2>/dev/null
        for _ in $(seq 600); do kill -0 "$RELAY_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$RELAY_PID" 2>/dev/null
    fi
    [ -n "$SINK_PID" ] && { kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; }
    [ -n "${DUMPDIR:-}" ] && rm -rf "$DUMPDIR"
    if [ "${INSTR_KEEP:-0}" = 1 ]; then echo "run directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# The relay's configuration is the harness plugin's (bench/relays/postlane.sh), plus the HTTP API.
# shellcheck source=relays/postlane.sh
RELAY_DIR=$WORK RELAY_HOST=$HOST RELAY_PORT=$PORT
. "$ROOT/bench/relays/postlane.sh"
relay_setup
# the plugin already writes an http: line (an unused API on a free port, f22b202): replaced, not appended
# (a second http: key is invalid YAML and the CLI refused the file)
sed -i '/^http:/d' "$WORK/postlane.yaml"
printf 'http: { host: %s, port: %s }\n' "$HOST" "$((PORT + 1))" >> "$WORK/postlane.yaml"
[ -n "${INSTR_STORAGE_URL:-}" ] && printf 'storage: { url: "%s" }\n' "$INSTR_STORAGE_URL" >> "$WORK/postlane.yaml"
# INSTR_TIMERS=off: the 1 s polls (delivery, webhooks) at 1 h; the scheduler still wakes on every put
# (notify), so the load is unchanged but the count no longer grows with the run's wall time
if [ "${INSTR_TIMERS:-off}" = off ]; then
    sed -i 's/^delivery:$/delivery:\n  pollInterval: 1h/' "$WORK/postlane.yaml"
    printf 'webhooks: { pollInterval: 1h }\n' >> "$WORK/postlane.yaml"
fi

# MODE=api: a sending domain (Ed25519 DKIM, as bench/api-send.ts's tenant) and a send key, made before the relay opens the store
TOKEN=""
if [ "$MODE" = api ]; then
    [ -f "$ROOT/dist/bench/api-client.js" ] || { echo "$ROOT/dist/bench/api-client.js missing (npx tsc -p bench/tsconfig.json)" >&2; exit 1; }
    node "$BUILD/bin/postlane.js" domains add acme.test --key ed25519 --selector s1 --config "$WORK/postlane.yaml" >"$WORK/cli.log" 2>&1
    TOKEN=$(node "$BUILD/bin/postlane.js" keys create --scope send --config "$WORK/postlane.yaml" 2>>"$WORK/cli.log")
    [ -n "$TOKEN" ] || { echo "keys create failed:" >&2; cat "$WORK/cli.log" >&2; exit 1; }
fi

DUMP=-; SINK_DUMP=()
# smtp-sink (user nobody) writes the dump through a temporary file next to it: a directory of its own, as relay-bench.sh's
if [ "$RCPTS" -gt 1 ]; then DUMPDIR=$(mktemp -d /dev/shm/postlane-instr-dump.XXXX); chown nobody "$DUMPDIR"; DUMP=$DUMPDIR/dump; SINK_DUMP=(-D "$DUMP"); fi
smtp-sink -u nobody -c "${SINK_DUMP[@]}" "$SINK_HOST:$SINK_PORT" 1024 >"$WORK/sink.out" 2>"$WORK/sink.err" &
SINK_PID=$!

# trace-children=no: the relay starts no processes on this path; --smc-check for V8's JIT code;
# instr-atstart=no: start-up and warm-up run uninstrumented (~4x faster than counted), the counting
# is switched on just before the measured load (callgrind_control -i on)
# shellcheck disable=SC2086
(cd "$WORK" && exec valgrind --tool=callgrind --smc-check=all-non-file --trace-children=no --instr-atstart=no ${INSTR_VG_EXTRA:-} \
    --callgrind-out-file="$WORK/cg.out" node $V8 "$BUILD/bin/postlane.js" start --config "$WORK/postlane.yaml" \
    >"$WORK/relay.log" 2>"$WORK/valgrind.log") &
RELAY_PID=$!

greet_ok() {
    local line
    exec 3<>"/dev/tcp/$HOST/$PORT" || return 1
    read -r -t 30 line <&3 || { exec 3>&-; return 1; }
    printf 'QUIT\r\n' >&3; exec 3>&- 3<&-
    [[ $line == 220* ]]
}
T_START=$SECONDS
until greet_ok 2>/dev/null; do
    kill -0 "$RELAY_PID" 2>/dev/null || { echo "relay exited:" >&2; tail -20 "$WORK/relay.log" "$WORK/valgrind.log" >&2; exit 1; }
    [ $((SECONDS - T_START)) -lt 600 ] || { echo "relay never answered 220 in 600 s" >&2; exit 1; }
    sleep 1
done
log "relay up under callgrind after $((SECONDS - T_START)) s ($BUILD, $MODE)"

sent() { python3 "$SC" now "$WORK/sink.out" | cut -d' ' -f1; }
rcpts_in() { python3 "$SC" now "$WORK/sink.out" "$DUMP" | cut -d' ' -f2; }
push() { # push COUNT: send and wait until the sink has them all
    if [ "$RCPTS" -gt 1 ]; then
        local rt=$(( $(rcpts_in) + $1 * RCPTS ))
        "$MGEN" $KEEPFLAG -s "$C" -m "$1" -l "$SIZE" -r "$RCPTS" -f sender@src.test -t "rcpt@$DOMS" -M gen.src.test \
            "$HOST:$PORT" >>"$WORK/gen.out" 2>&1 || { echo "mgen failed:" >&2; tail -5 "$WORK/gen.out" >&2; return 1; }
        python3 "$SC" wait "$WORK/sink.out" "$DUMP" 0 "$rt" 1200 >/dev/null || { echo "the sink did not get $rt recipients" >&2; return 1; }
        return 0
    fi
    local target=$(( $(sent) + $1 ))
    if [ "$MODE" = api ]; then
        local later=""; [ "${INSTR_API_DELIVER:-0}" = 1 ] || later=7200
        node "$ROOT/dist/bench/api-client.js" "http://$HOST:$((PORT + 1))/v1/messages" "$TOKEN" "$C" "$1" $later >>"$WORK/gen.out" 2>&1 \
            || { echo "api-client failed:" >&2; tail -5 "$WORK/gen.out" >&2; return 1; }
        [ -n "$later" ] && return 0 # every answer was 202: queued (and committed)
    else smtp-source $KEEPFLAG -s "$C" -m "$1" -l "$SIZE" -f sender@src.test -t rcpt@dst.test -M gen.src.test \
        "$HOST:$PORT" >>"$WORK/gen.out" 2>&1 || { echo "smtp-source failed:" >&2; tail -5 "$WORK/gen.out" >&2; return 1; }
    fi
    python3 "$SC" wait "$WORK/sink.out" - "$target" 0 1200 >/dev/null || { echo "the sink did not get $target messages" >&2; return 1; }
}
ir_of() { # total Ir of a callgrind dump (all per-thread parts with --separate-threads=yes)
    local t=0 f v; for f in "$1" "$1"-*; do [ -f "$f" ] || continue; v=$(awk '/^(summary|totals):/ {print $2; exit}' "$f"); t=$((t + ${v:-0})); done; echo $t
}
# callgrind_control names the dumps cg.out.1, cg.out.2, ... in order
dump() { callgrind_control -d "$RELAY_PID_VG" >/dev/null 2>&1; }
# the subshell execs valgrind, so its pid is valgrind's (the tool runs inside that process)
RELAY_PID_VG=$RELAY_PID

[ "$WARM" -gt 0 ] && { log "warm-up: $WARM messages"; push "$WARM"; }
sleep "$SETTLE"
callgrind_control -i on "$RELAY_PID_VG" >/dev/null 2>&1
callgrind_control -z "$RELAY_PID_VG" >/dev/null 2>&1
T0=$EPOCHREALTIME
log "measured: $N messages, $C sessions, $SIZE bytes, $MODE"
push "$N"
sleep "$SETTLE"
dump
T1=$EPOCHREALTIME
sleep "$IDLE"
dump
T2=$EPOCHREALTIME
for _ in $(seq 100); do ls "$WORK"/cg.out.2* >/dev/null 2>&1 && break; sleep 0.1; done; sleep 2
LOAD_IR=$(ir_of "$WORK/cg.out.1"); IDLE_IR=$(ir_of "$WORK/cg.out.2")
[ -n "$LOAD_IR" ] && [ -n "$IDLE_IR" ] || { echo "no callgrind totals in $WORK/cg.out.1/.2" >&2; exit 1; }
REV=$(cat "$BUILD/.instr-rev" 2>/dev/null || git -C "$BUILD" rev-parse --short HEAD 2>/dev/null || echo "?")
# the dumps are kept for callgrind_annotate (a few MB each): where two runs differ
DUMPS=${INSTR_DUMPS:-/tmp/postlane-instr-dumps}; mkdir -p "$DUMPS"
TAG=$(date +%H%M%S)-$(basename "$BUILD")-$MODE-$SLOT
for f in "$WORK"/cg.out.1*; do cp "$f" "$DUMPS/$TAG.load${f#$WORK/cg.out.1}"; done; for f in "$WORK"/cg.out.2*; do cp "$f" "$DUMPS/$TAG.idle${f#$WORK/cg.out.2}"; done
cp /tmp/perf-$RELAY_PID_VG.map "$DUMPS/$TAG.map" 2>/dev/null || true
SPLIT=$(python3 "$ROOT/bench/instr-split.py" --n "$N" "$DUMPS"/$TAG.load* | python3 -c '
import json,sys
t={}
for l in sys.stdin:
    d=json.loads(l)
    for k,v in d.items():
        if k!="dump": t[k]=t.get(k,0)+v
t["dump"]="sum"; print(json.dumps(t))')
LINE=$(python3 - "$SPLIT" <<EOF
import json, sys, time
n, load, idle = $N, $LOAD_IR, $IDLE_IR
parts = json.loads(sys.argv[1]); parts.pop("dump"); parts.pop("total")
# the idle window is not subtracted: it holds the memory reducer's GC after the load (70M+ Ir), not
# the timers' share of the load
print(json.dumps({"ts": time.strftime("%Y-%m-%dT%H:%M:%S"), "rev": "$REV", "build": "$BUILD", "mode": "$MODE",
  "n": n, "c": $C, "size": $SIZE, "rcpts": $RCPTS, "doms": "$DOMS", "warm": $WARM, "v8": "$V8", "timers": "${INSTR_TIMERS:-off}", "api_deliver": "${INSTR_API_DELIVER:-0}",
  "instr_per_msg": round(load / n),
  "program_per_msg": parts["jit_and_builtins"] + parts["node_v8_other"] + parts["sqlite"] + parts["libc_etc"] + parts["other"],
  "parts_per_msg": parts, "load_s": round($T1 - $T0, 1), "idle_ir_per_s": round(idle / ($T2 - $T1)),
  "loadavg": open("/proc/loadavg").read().split()[0], "dumps": "$DUMPS/$TAG"}))
EOF
)
echo "$LINE"
[ -n "$OUT" ] && echo "$LINE" >> "$OUT"
exit 0
