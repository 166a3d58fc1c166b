# The lead's plugin for coh17 (copy to the harness copy's relays/plcoh.sh; the tree is built: tsc + bundle).
# Delivery's SMTP transactions run in the SQLite store's database thread (branch coh17).
PL_ROOT=/work/wt-coh17 PL_FLAGS="--max-semi-space-size=2 --heap-growing-percent=30"
export BENCH_POSTLANE_ROOT=$PL_ROOT; source "$(dirname "${BASH_SOURCE[0]}")/postlane-variant.sh"
