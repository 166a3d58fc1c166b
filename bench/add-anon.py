#!/usr/bin/env python3
"""add-anon.py RESULTS.jsonl RUNS_DIR: add the anonymous-memory peaks of bench/procmon.py to result lines.

The shared harness writes one JSON line per run with the PSS peak only; each run's directory
(RUNS_DIR/<run_id>/mem.json, kept after the run) holds what our procmon sampled. For every line
without them, this adds peak_pss_anon_sum_mb, peak_anon_sum_mb and peak_pss_file_sum_mb (MB), and
rewrites the file in place. Lines whose run directory is not there are left as they are.
"""
import json
import os
import sys


def main():
    path, runs = sys.argv[1], sys.argv[2]
    if not os.path.exists(path):
        return 0
    lines = [line for line in open(path) if line.strip()]
    out, added = [], 0
    for line in lines:
        d = json.loads(line)
        mem = os.path.join(runs, d.get("run_id", ""), "mem.json")
        if "peak_pss_anon_sum_mb" not in d and os.path.exists(mem):
            m = json.load(open(mem))
            if "peak_pss_anon_sum_kb" in m:
                for k in ("peak_pss_anon_sum", "peak_anon_sum", "peak_pss_file_sum"):
                    d[k + "_mb"] = round(m[k + "_kb"] / 1024, 1)
                added += 1
        out.append(json.dumps(d) + "\n")
    with open(path + ".tmp", "w") as f:
        f.writelines(out)
    os.replace(path + ".tmp", path)
    print(f"add-anon: anonymous-memory peaks added to {added} of {len(lines)} result lines", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
