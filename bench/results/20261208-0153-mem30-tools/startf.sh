#!/usr/bin/env bash
# startf.sh ROOT PATHDIR PORT FLAGS... -> pid; node BASEFLAGS FLAGS ROOT/bin/postlane.js start
root=$1 pathdir=$2 P=$3; shift 3; H=127.0.64.1
d=/tmp/mem30/s.$P; rm -rf $d; mkdir -p $d
cat > "$d/c.yaml" <<Y
hostname: relay.bench.test
dataDir: $d/data
metrics: false
smtp: { submission: false, submissions: false, mx: false, alt: { host: $H, port: $P }, relayNetworks: [127.0.0.0/8] }
delivery: { smarthost: "127.0.64.9:46499", tls: none }
http: { host: $H, port: $((P + 1)) }
log: { level: warn }
Y
PATH="$pathdir:$PATH" setsid node --max-semi-space-size=2 --heap-growing-percent=30 --no-allocation-site-pretenuring "$@" "$root/bin/postlane.js" start --config "$d/c.yaml" > "$d/log" 2>&1 < /dev/null &
echo $!
