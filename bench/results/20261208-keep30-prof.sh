#!/usr/bin/env bash
# prof.sh BUILD N MODE(stat|record|trace) OUTPREFIX : native relay (launcher flags), i-keep load (smtp-source -d -s 20, 4 KB),
# warm-up W, then N measured messages with perf attached to the relay for exactly that window (until the sink has them all).
set -euo pipefail
BUILD=$1 N=$2 MODE=$3 OUT=$4
W=${W:-3000} C=20 SIZE=4096
HOST=127.0.63.1 PORT=${PORT:-46325} SINK_HOST=127.0.63.9 SINK_PORT=$((PORT+4))
SC=/work/shared/bench/lib/sinkcount.py
WORK=$(mktemp -d /tmp/keep30/prof.XXXX); chmod 755 $WORK
RELAY_PID="" SINK_PID="" PERF_PID=""
cleanup() { set +e; [ -n "$PERF_PID" ] && kill -INT $PERF_PID 2>/dev/null; [ -n "$RELAY_PID" ] && { kill -TERM $RELAY_PID; for _ in $(seq 100); do kill -0 $RELAY_PID 2>/dev/null || break; sleep 0.1; done; kill -KILL $RELAY_PID 2>/dev/null; }; [ -n "$SINK_PID" ] && kill $SINK_PID; }
trap cleanup EXIT
RELAY_DIR=$WORK RELAY_HOST=$HOST RELAY_PORT=$PORT
. /work/wt-keep30/bench/relays/postlane.sh
relay_setup
sed -i '/^http:/d' $WORK/postlane.yaml; printf 'http: { host: %s, port: %s }\n' $HOST $((PORT+1)) >> $WORK/postlane.yaml
smtp-sink -u nobody -c "$SINK_HOST:$SINK_PORT" 1024 >$WORK/sink.out 2>$WORK/sink.err & SINK_PID=$!
(cd $WORK && exec node --max-semi-space-size=2 --heap-growing-percent=30 --no-allocation-site-pretenuring ${PROF_FLAGS:-} $BUILD/bin/postlane.js start --config $WORK/postlane.yaml >$WORK/relay.log 2>&1) & RELAY_PID=$!
for _ in $(seq 300); do (exec 3<>/dev/tcp/$HOST/$PORT) 2>/dev/null && break; sleep 0.1; done
sent() { python3 $SC now $WORK/sink.out | cut -d' ' -f1; }
push() { local target=$(( $(sent) + $1 )); smtp-source -d -s $C -m $1 -l $SIZE -f sender@src.test -t rcpt@dst.test -M gen.src.test $HOST:$PORT >>$WORK/gen.out 2>&1; python3 $SC wait $WORK/sink.out - $target 0 600 >/dev/null; }
push $W; sleep 1
case $MODE in
  stat) perf stat --per-thread -x, -o $OUT.stat -e task-clock,context-switches,page-faults,raw_syscalls:sys_enter,syscalls:sys_enter_futex,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_read,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_pwrite64,syscalls:sys_enter_pread64,syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync,syscalls:sys_enter_madvise,syscalls:sys_enter_mprotect,syscalls:sys_enter_mmap,syscalls:sys_enter_munmap -p $RELAY_PID & PERF_PID=$! ;;
  record) perf record -F 999 -g -o $OUT.data -p $RELAY_PID 2>$OUT.rec.err & PERF_PID=$! ;;
  trace) perf trace -s -o $OUT.trace -p $RELAY_PID & PERF_PID=$! ;;
  none) ;;
esac
sleep 0.5
T0=$EPOCHREALTIME
push $N
T1=$EPOCHREALTIME
[ -n "$PERF_PID" ] && { kill -INT $PERF_PID; wait $PERF_PID || true; PERF_PID=""; }
echo "N=$N wall=$(python3 -c "print(round($T1-$T0,3))") rate=$(python3 -c "print(round($N/($T1-$T0)))") relay_pid=$RELAY_PID" | tee $OUT.info
ls /proc/$RELAY_PID/task | head -20 > $OUT.tids
cp /tmp/perf-$RELAY_PID.map $OUT.map 2>/dev/null || true
