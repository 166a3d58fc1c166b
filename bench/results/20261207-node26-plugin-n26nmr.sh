export PATH=/tmp/postlane-node26.I42uft/bin:$PATH
PL_ROOT=/tmp/postlane-node26.I42uft/tree PL_FLAGS="--max-semi-space-size=2 --heap-growing-percent=30 --no-maglev" PL_ENV="GLIBC_TUNABLES=glibc.malloc.arena_max=2"
export BENCH_POSTLANE_ROOT=$PL_ROOT; source "$(dirname "${BASH_SOURCE[0]}")/postlane-variant.sh"
eval "origs_$(declare -f relay_stop)"
relay_stop() { cp /proc/"$(cat "$RELAY_DIR/relay.pid")"/smaps "$RELAY_DIR/log/end-smaps.txt" 2>/dev/null; origs_relay_stop; }
