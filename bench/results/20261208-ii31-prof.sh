#!/usr/bin/env bash
# ii31-prof.sh BUILD N MODE(stat|record|strace|none) OUTPREFIX : native relay (launcher flags), workload (ii)'s shape
# (smtp-source -s 20 -l $SIZE, one connection a message, no -d), warm-up W messages, then N measured messages with the
# tool attached for exactly that window. Also per thread: utime/stime (/proc/…/task/*/stat) and rchar/wchar
# (/proc/…/task/*/io) before and after the window, and the WAL / queue.db sizes. SIZE=4096 for (i)'s shape.
set -euo pipefail
BUILD=$1 N=$2 MODE=$3 OUT=$4
W=${W:-600} C=20 SIZE=${SIZE:-102400}
HOST=127.0.74.1 PORT=${PORT:-27440} SINK_HOST=127.0.74.9 SINK_PORT=$((PORT+4))
SC=/work/shared/bench/lib/sinkcount.py
mkdir -p /tmp/ii31; WORK=$(mktemp -d /tmp/ii31/prof.XXXX); chmod 755 $WORK
RELAY_PID="" SINK_PID="" PERF_PID=""
cleanup() { set +e; [ -n "$PERF_PID" ] && kill -INT $PERF_PID 2>/dev/null; [ -n "$RELAY_PID" ] && { kill -TERM $RELAY_PID; for _ in $(seq 100); do kill -0 $RELAY_PID 2>/dev/null || break; sleep 0.1; done; kill -KILL $RELAY_PID 2>/dev/null; }; [ -n "$SINK_PID" ] && kill $SINK_PID; }
trap cleanup EXIT
RELAY_DIR=$WORK RELAY_HOST=$HOST RELAY_PORT=$PORT
. /work/wt-ii31/bench/relays/postlane.sh
relay_setup
sed -i '/^http:/d' $WORK/postlane.yaml; printf 'http: { host: %s, port: %s }\n' $HOST $((PORT+1)) >> $WORK/postlane.yaml
smtp-sink -u nobody -c "$SINK_HOST:$SINK_PORT" 1024 >$WORK/sink.out 2>$WORK/sink.err & SINK_PID=$!
(cd $WORK && exec node --max-semi-space-size=2 --heap-growing-percent=30 --no-allocation-site-pretenuring ${PROF_FLAGS:-} $BUILD/bin/postlane.js start --config $WORK/postlane.yaml >$WORK/relay.log 2>&1) & RELAY_PID=$!
for _ in $(seq 300); do (exec 3<>/dev/tcp/$HOST/$PORT) 2>/dev/null && break; sleep 0.1; done
sent() { python3 $SC now $WORK/sink.out | cut -d' ' -f1; }
push() { local target=$(( $(sent) + $1 )); smtp-source -s $C -m $1 -l $SIZE -f sender@src.test -t rcpt@dst.test -M gen.src.test $HOST:$PORT >>$WORK/gen.out 2>&1; python3 $SC wait $WORK/sink.out - $target 0 600 >/dev/null; }
snap() { for t in /proc/$RELAY_PID/task/*; do tid=${t##*/}; comm=$(cat $t/comm 2>/dev/null || echo ?); st=$(cut -d' ' -f14,15 $t/stat 2>/dev/null || echo "0 0"); io=$(awk '/^(rchar|wchar|syscr|syscw|write_bytes):/{printf "%s ",$2}' $t/io 2>/dev/null || echo); echo "$tid ${comm// /_} $st $io"; done; }
push $W; sleep 1
snap > $OUT.snap0; ls -l $WORK/data/ > $OUT.files0 2>/dev/null || true
case $MODE in
  stat) perf stat --per-thread -x, -o $OUT.stat -e task-clock,context-switches,page-faults,raw_syscalls:sys_enter,syscalls:sys_enter_futex,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_read,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_pwrite64,syscalls:sys_enter_pread64,syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync,syscalls:sys_enter_madvise,syscalls:sys_enter_mprotect,syscalls:sys_enter_mmap,syscalls:sys_enter_munmap,syscalls:sys_enter_fcntl -p $RELAY_PID & PERF_PID=$! ;;
  record) perf record -F 499 -g -o $OUT.data -p $RELAY_PID 2>$OUT.rec.err & PERF_PID=$! ;;
  strace) strace -f -y -T ${STRACE_EXTRA:-} -e trace=${STRACE_CALLS:-pwrite64,pread64,write,writev,read,fsync,fdatasync,openat,close,unlink} -o $OUT.strace -p $RELAY_PID 2>$OUT.strace.err & PERF_PID=$! ;;
  none) ;;
esac
sleep 0.5
wc -l < $WORK/relay.log > $OUT.logline0
T0=$EPOCHREALTIME
push $N
T1=$EPOCHREALTIME
[ -n "$PERF_PID" ] && { kill -INT $PERF_PID; wait $PERF_PID || true; PERF_PID=""; }
snap > $OUT.snap1; ls -l $WORK/data/ > $OUT.files1 2>/dev/null || true
echo "N=$N SIZE=$SIZE wall=$(python3 -c "print(round($T1-$T0,3))") rate=$(python3 -c "print(round($N/($T1-$T0)))") relay_pid=$RELAY_PID load=$(cut -d' ' -f1-3 /proc/loadavg)" | tee $OUT.info
cp $WORK/relay.log $OUT.relaylog 2>/dev/null || true; grep -c . $OUT.relaylog >/dev/null 2>&1 || true
cp /tmp/perf-$RELAY_PID.map $OUT.map 2>/dev/null || true
