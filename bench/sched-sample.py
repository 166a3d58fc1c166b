#!/usr/bin/env python3
# api25: every 20 ms, each thread of PID: CLOCK_MONOTONIC ms, [tid, comm, on-CPU ns, run-queue wait ns] (schedstat), and /proc/stat's cpu line (jiffies), one JSON line.
import json, os, sys, time
pid, out = sys.argv[1], sys.argv[2]
names = {}
with open(out, 'w') as f:
    while True:
        t = time.monotonic() * 1000
        rows = []
        try:
            tids = os.listdir(f'/proc/{pid}/task')
        except FileNotFoundError:
            break
        for tid in tids:
            try:
                if tid not in names:
                    names[tid] = open(f'/proc/{pid}/task/{tid}/comm').read().strip()
                run, wait, _ = open(f'/proc/{pid}/task/{tid}/schedstat').read().split()
                rows.append([int(tid), names[tid], int(run), int(wait)])
            except (FileNotFoundError, ProcessLookupError):
                pass
        cpu = [int(x) for x in open('/proc/stat').readline().split()[1:8]]
        f.write(json.dumps([round(t, 3), rows, cpu]) + '\n')
        time.sleep(0.02)
