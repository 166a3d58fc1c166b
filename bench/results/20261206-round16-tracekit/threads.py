#!/usr/bin/env python3
# threads.py PORT OUT: every 0.5 s, the CPU ticks of each thread of the node process listening on PORT (one JSON line a sample)
import os, sys, time, json, subprocess
port, out = sys.argv[1], sys.argv[2]
def pid_of():
    o = subprocess.run(['ss', '-Hltnp', f'sport = :{port}'], capture_output=True, text=True).stdout
    import re
    m = re.search(r'pid=(\d+)', o); return int(m.group(1)) if m else None
f = open(out, 'a')
while True:
    pid = pid_of()
    if pid:
        row = {'T': time.time(), 'pid': pid}
        try:
            for t in os.listdir(f'/proc/{pid}/task'):
                s = open(f'/proc/{pid}/task/{t}/stat').read(); comm = s[s.index('(')+1:s.rindex(')')]
                fl = s[s.rindex(')')+2:].split(); row[f'{t}:{comm}'] = int(fl[11]) + int(fl[12])
        except FileNotFoundError: pass
        f.write(json.dumps(row) + '\n'); f.flush()
    time.sleep(0.5)
