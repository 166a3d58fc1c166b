#!/usr/bin/env bash
# WAL pages written per message on the SQLite store, attributed to the b-tree each page belongs to
# (wal25, twenty-fifth session). The relay of a built tree runs as the harness runs it (bench/relays/
# postlane.sh's configuration, the launcher's V8 flags) with one difference, made by a preload and not
# by the build (bench/wal-noautockpt.cjs): the writer's automatic checkpoints are off, so queue.db-wal
# keeps every frame. A warm-up, then N messages (smtp-source, or mgen for several recipients) through the
# relay to smtp-sink; the WAL's size before and after the N messages bounds their frames; the relay is
# killed (-9: a clean close would checkpoint and delete the WAL) and bench/wal-frames.py reads the
# frames, rebuilds the database commit by commit and names the b-tree of every page written.
# Counts, not timings: they do not depend on the machine's load, but frames a message depend on how
# many messages share a group commit (WF_C sessions) and on the history already in the tables (WF_WARM).
#
#   bench/wal-frames.sh BUILD_DIR [N=1000] [OUT.json]
# Environment: WF_RCPTS (1) recipients a message, WF_DOMS (dst.test; a.test,b.test for workload iii),
#   WF_WARM (2000) warm-up messages, WF_C (20) client sessions, WF_SIZE (4096) body bytes,
#   WF_HOST / WF_SINK_HOST / WF_PORT (127.0.73.1 / 127.0.73.9 / 47300): relay, sink, first port (+4 the sink's),
#   WF_STRACE=1: the normal relay (automatic checkpoints on, no preload) under `strace -f -y -e pwrite64,fsync`
#   attached to every thread for the measured messages only: pwrite64 calls by file and size, fsyncs (the real
#   WAL and checkpoint writes), printed as a second JSON line.  WF_KEEP=1 keeps the run directory.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:?usage: bench/wal-frames.sh BUILD_DIR [N] [OUT.json]}" && pwd)
N=${2:-1000}; OUT=${3:-}
HOST=${WF_HOST:-127.0.73.1} SINK_HOST=${WF_SINK_HOST:-127.0.73.9} PORT=${WF_PORT:-47300}; SINK_PORT=$((PORT + 4))
WARM=${WF_WARM:-2000} C=${WF_C:-20} SIZE=${WF_SIZE:-4096} RCPTS=${WF_RCPTS:-1} DOMS=${WF_DOMS:-dst.test}
SC=${SHARED_BENCH:-$ROOT/../shared/bench}/lib/sinkcount.py
[ -f "$SC" ] || SC=/work/shared/bench/lib/sinkcount.py
MGEN=/tmp/postlane-wf-mgen-$(id -u)
if [ "$RCPTS" -gt 1 ] && [ ! -x "$MGEN" ]; then gcc -O2 -pthread -o "$MGEN" "$(dirname "$SC")/../tools/mgen.c"; fi
WORK=$(mktemp -d /tmp/postlane-wf.XXXX); chmod 755 "$WORK"
RELAY_PID="" SINK_PID="" STRACE_PID="" DUMPDIR=""
cleanup() {
    set +e
    [ -n "$STRACE_PID" ] && kill "$STRACE_PID" 2>/dev/null
    [ -n "$RELAY_PID" ] && { kill -KILL "$RELAY_PID" 2>/dev/null; wait "$RELAY_PID" 2>/dev/null; }
    [ -n "$SINK_PID" ] && { kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; }
    [ -n "$DUMPDIR" ] && rm -rf "$DUMPDIR"
    if [ "${WF_KEEP:-0}" = 1 ]; then echo "run directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

RELAY_DIR=$WORK RELAY_HOST=$HOST RELAY_PORT=$PORT
# shellcheck source=relays/postlane.sh
. "$ROOT/bench/relays/postlane.sh"
relay_setup
sed -i '/^http:/d' "$WORK/postlane.yaml"; printf 'http: { host: %s, port: %s }\n' "$HOST" "$((PORT + 1))" >> "$WORK/postlane.yaml"
# as bench/instr.sh's INSTR_TIMERS=off: the 1 s polls at 1 h (the scheduler still wakes on every put)
sed -i 's/^delivery:$/delivery:\n  pollInterval: 1h/' "$WORK/postlane.yaml"; printf 'webhooks: { pollInterval: 1h }\n' >> "$WORK/postlane.yaml"

DUMP=-; SINK_DUMP=()
if [ "$RCPTS" -gt 1 ]; then DUMPDIR=$(mktemp -d /dev/shm/postlane-wf-dump.XXXX); chown nobody "$DUMPDIR"; DUMP=$DUMPDIR/dump; SINK_DUMP=(-D "$DUMP"); fi
smtp-sink -u nobody -c "${SINK_DUMP[@]}" "$SINK_HOST:$SINK_PORT" 1024 >"$WORK/sink.out" 2>"$WORK/sink.err" &
SINK_PID=$!

PRE=(--require "$ROOT/bench/wal-noautockpt.cjs"); [ "${WF_STRACE:-0}" = 1 ] && PRE=()
(cd "$WORK" && WF_BUILD=$BUILD exec node --max-semi-space-size=2 --heap-growing-percent=30 "${PRE[@]}" "$BUILD/bin/postlane.js" start \
    --config "$WORK/postlane.yaml" >"$WORK/relay.log" 2>&1) &
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
    kill -0 "$RELAY_PID" 2>/dev/null || { echo "relay exited:" >&2; tail -20 "$WORK/relay.log" >&2; exit 1; }
    [ $((SECONDS - T_START)) -lt 120 ] || { echo "relay never answered 220" >&2; exit 1; }
    sleep 0.2
done
sent() { python3 "$SC" now "$WORK/sink.out" | cut -d' ' -f1; }
rcpts_in() { python3 "$SC" now "$WORK/sink.out" "$DUMP" | cut -d' ' -f2; }
push() { # push COUNT: send and wait until the sink has them all
    if [ "$RCPTS" -gt 1 ]; then
        local rt=$(( $(rcpts_in) + $1 * RCPTS ))
        "$MGEN" -s "$C" -m "$1" -l "$SIZE" -r "$RCPTS" -f sender@src.test -t "rcpt@$DOMS" -M gen.src.test "$HOST:$PORT" >>"$WORK/gen.out" 2>&1
        python3 "$SC" wait "$WORK/sink.out" "$DUMP" 0 "$rt" 1200 >/dev/null
    else
        local target=$(( $(sent) + $1 ))
        smtp-source -s "$C" -m "$1" -l "$SIZE" -f sender@src.test -t rcpt@dst.test -M gen.src.test "$HOST:$PORT" >>"$WORK/gen.out" 2>&1
        python3 "$SC" wait "$WORK/sink.out" - "$target" 0 1200 >/dev/null
    fi
}
DB=$WORK/data/queue.db; WAL=$DB-wal
wal_size() { stat -c %s "$WAL" 2>/dev/null || echo 0; }
settle() { # until the WAL has not grown for 1.5 s (the last results committed)
    local a b; a=$(wal_size); for _ in $(seq 60); do sleep 1.5; b=$(wal_size); [ "$a" = "$b" ] && return 0; a=$b; done
}
[ "$WARM" -gt 0 ] && { log "warm-up: $WARM messages x $RCPTS recipients"; push "$WARM"; }
settle
RELAY_NODE_PID=$(pgrep -P "$RELAY_PID" -x node || echo "$RELAY_PID") # the subshell execs node: usually the same pid
if [ "${WF_STRACE:-0}" = 1 ]; then
    TIDS=(); for t in /proc/"$RELAY_PID"/task/*; do TIDS+=(-p "${t##*/}"); done
    strace -f -qq -y -e trace=pwrite64,fsync,fdatasync -e signal=none -o "$WORK/strace.out" "${TIDS[@]}" 2>"$WORK/strace.err" &
    STRACE_PID=$!; sleep 1
fi
S0=$(wal_size)
log "measured: $N messages x $RCPTS recipients, $C sessions, $SIZE bytes (WAL at $S0 bytes)"
push "$N"
settle
S1=$(wal_size)
if [ "${WF_STRACE:-0}" = 1 ]; then kill -INT "$STRACE_PID"; wait "$STRACE_PID" 2>/dev/null || true; STRACE_PID=""; fi
kill -KILL "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true; RELAY_PID=""
REV=$(git -C "$BUILD" rev-parse --short HEAD 2>/dev/null || basename "$BUILD")
if [ "${WF_STRACE:-0}" = 1 ]; then
    LINE=$(python3 - "$WORK/strace.out" "$N" "$RCPTS" "$REV" <<'PY'
import json, re, sys, collections
path, n, rcpts, rev = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
calls = collections.Counter()
for line in open(path, errors='replace'):
    if 'resumed>' in line: continue  # a call split by another thread's: counted at its '<unfinished ...>' half
    m = re.search(r'(pwrite64|fsync|fdatasync)\(\d+<([^>]*)>', line)
    if not m: continue
    sz = re.search(r', (\d+), \d+(?:\)| <unfinished)', line[m.end():]) if m.group(1) == 'pwrite64' else None
    f = m.group(2).rsplit('/', 1)[-1]; size = sz.group(1) if sz else None
    calls[f'{m.group(1)} {f}' + (f' {size}B' if size and m.group(1) == 'pwrite64' else '')] += 1
print(json.dumps({'kind': 'strace', 'rev': rev, 'n': n, 'rcpts': rcpts,
                  'per_msg': {k: round(v / n, 3) for k, v in sorted(calls.items())}, 'calls': dict(sorted(calls.items()))}))
PY
)
else
    [ "${WF_KEEP:-0}" = 1 ] && echo "re-read: python3 $ROOT/bench/wal-frames.py $DB --from $S0 --to $S1 --n $N --rcpts $RCPTS" >&2
    LINE=$(python3 "$ROOT/bench/wal-frames.py" "$DB" --from "$S0" --to "$S1" --n "$N" --rcpts "$RCPTS" --rev "$REV" --warm "$WARM" --clients "$C")
fi
echo "$LINE"
[ -n "$OUT" ] && echo "$LINE" >> "$OUT"
exit 0
