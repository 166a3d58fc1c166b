# Samples the CPU (utime+stime) of every PostgreSQL backend whose database starts with PREFIX, every 0.2 s, keeping
# each pid's last value (an exited backend keeps its last sample: loses < 0.2 s), and at SIGTERM/SIGINT writes OUT: [[db, first seen, CPU s], ...]
# in the order the databases were first seen (a campaign's runs). Backends that exit are counted, unlike cluster.sh's column.
#   python3 bench/pg-cpu-sample.py OUT PREFIX &  (then kill it after the campaign)
import os, signal, sys, time, json
clk = os.sysconf("SC_CLK_TCK"); last = {}; first = {}  # pid -> (db, ticks); db -> first seen
out, prefix = sys.argv[1], sys.argv[2]
def dump(*_):
    per = {}
    for db, t in last.values(): per[db] = per.get(db, 0) + t
    json.dump([[k, first[k], round(v / clk, 2)] for k, v in sorted(per.items(), key=lambda kv: first[kv[0]])], open(out, 'w'), indent=0); sys.exit(0)
signal.signal(signal.SIGTERM, dump); signal.signal(signal.SIGINT, dump)
while True:
    for p in os.listdir('/proc'):
        if not p.isdigit(): continue
        try:
            cmd = open(f'/proc/{p}/cmdline', 'rb').read().split(b'\0')[0].decode(errors='replace')
            if not cmd.startswith('postgres: '): continue
            parts = cmd.split()
            if len(parts) > 2 and parts[1].endswith(':'): parts = parts[1:]  # a cluster_name ('15/main:') before the user (pgapi25)
            db = parts[2] if len(parts) > 2 else '?'
            if not db.startswith(prefix): continue
            f = open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()
            last[int(p)] = (db, int(f[11]) + int(f[12])); first.setdefault(db, time.time())
        except (OSError, IndexError):
            pass
    time.sleep(0.2)
