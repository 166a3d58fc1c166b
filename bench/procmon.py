#!/usr/bin/env python3
"""Our procmon: the shared harness's lib/procmon.py, with anonymous memory beside PSS.

bench/run.sh copies the shared harness into a temp dir, renames its lib/procmon.py to
lib/procmon_shared.py and puts this file in its place. `cpu` and `sysstat` are the shared ones;
`watch` samples as the shared one does (same interval, same process tree, same peaks) and adds,
summed over the tree's processes at each sample, from /proc/PID/smaps_rollup:
  peak_pss_anon_sum_kb   Pss_Anon: anonymous pages, those shared after a fork divided among the
                         sharers (Postfix's forked daemons are charged their share once)
  peak_anon_sum_kb       Anonymous: anonymous pages, not divided
  peak_pss_file_sum_kb   Pss_File: file-backed pages (binaries, libraries), divided
PSS minus Pss_Anon is mostly the executables' and libraries' pages: ~44 MB of the node binary for
a relay alone on the machine, shared (and so smaller) when other Node processes run
(bench/README.md, "Peak memory under load, sixth session"). bench/add-anon.py copies the peaks
from each run's mem.json into its result line (peak_pss_anon_sum_mb, ...).
"""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procmon_shared as shared  # noqa: E402  (the harness's own procmon.py, renamed by bench/run.sh)

ROLLUP_KEYS = {"Pss:": "pss", "Pss_Anon:": "pss_anon", "Pss_File:": "pss_file", "Anonymous:": "anon"}


def mem_of(pid):
    """rss, hwm (KiB, from status) and the rollup's pss, pss_anon, pss_file, anon; None if gone."""
    out = {"rss": 0, "hwm": 0, "pss": None, "pss_anon": 0, "pss_file": 0, "anon": 0}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    out["rss"] = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    out["hwm"] = int(line.split()[1])
    except OSError:
        return None
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                k = ROLLUP_KEYS.get(line.split(None, 1)[0]) if line.strip() else None
                if k:
                    out[k] = int(line.split()[1])
    except OSError:
        pass
    if out["pss"] is None:
        out["pss"] = out["rss"]
    return out


def watch(out, interval, roots):
    stop = [False]

    def h(*_):
        stop[0] = True
    signal.signal(signal.SIGTERM, h)
    signal.signal(signal.SIGINT, h)
    peak = {"peak_rss_sum_kb": 0, "peak_pss_sum_kb": 0, "peak_nprocs": 0, "max_vmhwm_kb": 0, "samples": 0,
            "peak_pss_anon_sum_kb": 0, "peak_anon_sum_kb": 0, "peak_pss_file_sum_kb": 0}
    while not stop[0]:
        pids = shared.tree(roots, shared.all_stats())
        s = {"rss": 0, "pss": 0, "pss_anon": 0, "pss_file": 0, "anon": 0}
        n = 0
        for pid in pids:
            m = mem_of(pid)
            if m is None:
                continue
            n += 1
            for k in s:
                s[k] += m[k]
            peak["max_vmhwm_kb"] = max(peak["max_vmhwm_kb"], m["hwm"])
        for k in s:
            key = {"rss": "peak_rss_sum_kb", "pss": "peak_pss_sum_kb", "pss_anon": "peak_pss_anon_sum_kb",
                   "pss_file": "peak_pss_file_sum_kb", "anon": "peak_anon_sum_kb"}[k]
            peak[key] = max(peak[key], s[k])
        peak["peak_nprocs"] = max(peak["peak_nprocs"], n)
        peak["samples"] += 1
        end = time.monotonic() + interval
        while not stop[0] and time.monotonic() < end:
            time.sleep(min(0.05, interval))
    with open(out, "w") as f:
        json.dump(peak, f)


def main():
    a = sys.argv[1:]
    if a and a[0] == "watch":
        out, interval, rest = None, 0.25, []
        i = 1
        while i < len(a):
            if a[i] == "--out":
                out = a[i + 1]; i += 2
            elif a[i] == "--interval":
                interval = float(a[i + 1]); i += 2
            else:
                rest.append(int(a[i])); i += 1
        watch(out, interval, rest)
        return 0
    return shared.main()


if __name__ == "__main__":
    sys.exit(main())
