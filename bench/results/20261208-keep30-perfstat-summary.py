#!/usr/bin/env python3
"""perfstat-summary.py N FILE.csv...: per message (N messages in the window) from `perf stat --per-thread -x,` of the
relay (20261208-keep30-prof.sh stat): main thread (lowest tid), database thread (busiest other), and all threads."""
import sys
N = int(sys.argv[1])
for f in sys.argv[2:]:
    rows = [l.strip().split(',') for l in open(f) if l.startswith('node-')]
    clk = {r[0]: float(r[1]) for r in rows if r[3] == 'task-clock' and not r[1].startswith('<')}
    tids = sorted(clk, key=lambda t: int(t.split('-')[1])); main = tids[0]; db = max((t for t in tids if t != main), key=lambda t: clk[t])
    def get(t, ev):
        for r in rows:
            if r[0] == t and r[3] == ev and not r[1].startswith('<'): return float(r[1]) / N
        return 0.0
    tot = lambda ev: sum(float(r[1]) for r in rows if r[3] == ev and not r[1].startswith('<')) / N
    print(f"{f.split('/')[-1]:44s} main: cpu {get(main,'task-clock'):.3f} ms, syscalls {get(main,'raw_syscalls:sys_enter'):.2f} (write {get(main,'syscalls:sys_enter_write'):.2f} writev {get(main,'syscalls:sys_enter_writev'):.2f} read {get(main,'syscalls:sys_enter_read'):.2f} futex {get(main,'syscalls:sys_enter_futex'):.2f}), cs {get(main,'context-switches'):.2f}"
          f" | db: cpu {get(db,'task-clock'):.3f}, syscalls {get(db,'raw_syscalls:sys_enter'):.2f} (pwrite {get(db,'syscalls:sys_enter_pwrite64'):.2f} pread {get(db,'syscalls:sys_enter_pread64'):.2f} futex {get(db,'syscalls:sys_enter_futex'):.2f}), cs {get(db,'context-switches'):.2f}"
          f" | all: cpu {tot('task-clock'):.3f}, syscalls {tot('raw_syscalls:sys_enter'):.2f}, cs {tot('context-switches'):.2f}, faults {tot('page-faults'):.2f}")
