# relays plugin (lead, twenty-fourth session): the relay pinned to one core (taskset -c 0); p1worker.sh is the same with POSTLANE_STORAGE_SQLITE_THREAD=worker
PL_ROOT=/tmp/lead-base PL_FLAGS="--max-semi-space-size=2 --heap-growing-percent=30" PL_ENV="POSTLANE_STORAGE_SQLITE_THREAD=main"
export BENCH_POSTLANE_ROOT=$PL_ROOT; source "$(dirname "${BASH_SOURCE[0]}")/postlane-variant.sh"
relay_start() {
    mkdir -p "$RELAY_DIR/log"
    setsid env ${PL_ENV:-} taskset -c 0 node ${PL_FLAGS:-} "${PL_ROOT:?}/bin/postlane.js" start --config "$RELAY_DIR/postlane.yaml" \
        >"$RELAY_DIR/log/relay.log" 2>&1 </dev/null &
    echo $! > "$RELAY_DIR/relay.pid"
}
