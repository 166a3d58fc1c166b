PL_ROOT=/tmp/mem24-base PL_FLAGS="--max-semi-space-size=2 --heap-growing-percent=30" PL_PRELOAD=/tmp/mem24/diag-pre.cjs
export BENCH_POSTLANE_ROOT=$PL_ROOT; source "$(dirname "${BASH_SOURCE[0]}")/postlane-variant.sh"
eval "orig2_$(declare -f relay_start)"
relay_start() { orig2_relay_start; sleep 0.3; python3 /work/main/bench/smaps-peak.py "$(cat "$RELAY_DIR/relay.pid")" "$RELAY_DIR/log" & }
eval "orig3_$(declare -f relay_start)"
relay_start() { orig3_relay_start; ( sleep ${DIAG_AT:-10}; touch "$RELAY_DIR/log/snap"; sleep 1; gdb -p "$(cat "$RELAY_DIR/relay.pid")" -batch -ex 'call (void)malloc_stats()' >/dev/null 2>&1; cp /proc/"$(cat "$RELAY_DIR/relay.pid")"/smaps "$RELAY_DIR/log/diag-smaps.txt" ) & }
