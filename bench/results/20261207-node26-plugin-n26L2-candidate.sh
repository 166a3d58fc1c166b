export PATH=/tmp/postlane-node26.I42uft/bin:$PATH
PL_ROOT=/tmp/node26-t26b PL_FLAGS="--max-semi-space-size=2 --heap-growing-percent=30" PL_ENV=""
export BENCH_POSTLANE_ROOT=$PL_ROOT; source "$(dirname "${BASH_SOURCE[0]}")/postlane-variant.sh"
eval "origs_$(declare -f relay_stop)"
relay_stop() { local p=$(cat "$RELAY_DIR/relay.pid"); cp /proc/$p/smaps "$RELAY_DIR/log/end-smaps.txt" 2>/dev/null; tr '\0' '\n' </proc/$p/environ | grep GLIBC > "$RELAY_DIR/log/environ-glibc.txt"; origs_relay_stop; }
