#!/usr/bin/env python3
"""summarize-all.py RELAY.jsonl [API.jsonl] -> one markdown table for `bench/run.sh all`.

One row per relay workload: Postfix and Postlane e2e msgs/s (medians), the median of paired
ratios (run k of Postlane / run k of Postfix, same repetition), relay CPU ms per message, peak
PSS MB and peak anonymous PSS MB (Pss_Anon summed over the relay's processes, bench/procmon.py;
"-" for results recorded without it) (Postfix -> Postlane, medians), the machine's load before
the first run. With other relays in the campaign (run.sh's PEERS, e.g. Haraka) a second table
gives each of them against Postfix and against Postlane (paired ratios). Then one row
per HTTP API concurrency (msgs/s, p50, p99, peak RSS of the process), which has no reference.
"""
import json
import os
import statistics as st
import sys
from collections import OrderedDict


def load(path):
    if not path or not os.path.exists(path):
        return []
    return [json.loads(line) for line in open(path) if line.strip()]


def med(xs, nd=0):
    return f"{st.median(xs):.{nd}f}" if xs else "-"


def system(d):
    """A run's system: the relay, with the harness's variant (e.g. Haraka's nodes=2) when it has one."""
    return f"{d['relay']} {d['variant']}" if d.get("variant") else d["relay"]


def paired(num, den):
    """Median of run k of num / run k of den (the same repetition of an interleaved campaign)."""
    return med([a["e2e_msgs_per_s"] / b["e2e_msgs_per_s"] for a, b in zip(num, den)], 2)


def relay_rows(rows):
    by = OrderedDict()
    for d in rows:
        if d.get("complete") and d.get("gen_rc") == 0:
            by.setdefault(d["label"], {}).setdefault(system(d), []).append(d)
    print("| workload | Postfix e2e msg/s | Postlane e2e msg/s | Postlane / Postfix (paired) | relay CPU ms/msg (Postfix → Postlane) | peak PSS MB (Postfix → Postlane) | peak anon PSS MB (Postfix → Postlane) | load before | runs |")
    print("|---|---|---|---|---|---|---|---|---|")
    for wl, sys_runs in by.items():
        pf, pl = sys_runs.get("postfix", []), sys_runs.get("postlane", [])
        ratios = [a["e2e_msgs_per_s"] / b["e2e_msgs_per_s"] for a, b in zip(pl, pf)]
        e2e = lambda rs: [r["e2e_msgs_per_s"] for r in rs]
        cpu = lambda rs: [r["relay_cpu_s_per_1k"] for r in rs]
        pss = lambda rs: [r["peak_pss_sum_mb"] for r in rs]
        anon = lambda rs: [r["peak_pss_anon_sum_mb"] for r in rs if "peak_pss_anon_sum_mb" in r]
        load0 = (pf or pl)[0]["loadavg_before"].split()[0]
        print(f"| {wl} | {med(e2e(pf))} | {med(e2e(pl))} | **{med(ratios, 2)}** | "
              f"{med(cpu(pf), 2)} → {med(cpu(pl), 2)} | {med(pss(pf))} → {med(pss(pl))} | {med(anon(pf))} → {med(anon(pl))} | {load0} | {len(pf)}+{len(pl)} |")
    peers = [(wl, name, runs) for wl, sys_runs in by.items() for name, runs in sys_runs.items() if name not in ("postfix", "postlane")]
    if peers:
        print()
        print("| workload | peer | peer e2e msg/s | peer / Postfix (paired) | Postlane / peer (paired) | relay CPU ms/msg (peer → Postlane) | peak PSS MB (peer → Postlane) | peak anon PSS MB (peer → Postlane) |")
        print("|---|---|---|---|---|---|---|---|")
        for wl, name, runs in peers:
            pf, pl = by[wl].get("postfix", []), by[wl].get("postlane", [])
            e2e = [r["e2e_msgs_per_s"] for r in runs]
            cpu = lambda rs: [r["relay_cpu_s_per_1k"] for r in rs]
            pss = lambda rs: [r["peak_pss_sum_mb"] for r in rs]
            anon = lambda rs: [r["peak_pss_anon_sum_mb"] for r in rs if "peak_pss_anon_sum_mb" in r]
            print(f"| {wl} | {name} | {med(e2e)} | {paired(runs, pf)} | **{paired(pl, runs)}** | "
                  f"{med(cpu(runs), 2)} → {med(cpu(pl), 2)} | {med(pss(runs))} → {med(pss(pl))} | {med(anon(runs))} → {med(anon(pl))} |")
    bad = [d for d in rows if not d.get("complete") or d.get("gen_rc") != 0]
    for d in bad:
        print(f"\n- incomplete/failed run excluded: {d['run_id']} complete={d.get('complete')} gen_rc={d.get('gen_rc')}")


def api_rows(rows):
    if not rows:
        return
    print()
    print("| HTTP API (bench/api-send.ts, client in its own process) | msg/s | p50 ms | p99 ms | p99.9 ms | relay CPU ms/msg |")
    print("|---|---|---|---|---|---|")
    for d in rows:
        # open loop (api-send --rate R): requests due at R msg/s, at most `concurrency` in flight, latency from the due time
        how = f"open loop {d['rateAsked']:.0f} msg/s, ≤ {d['concurrency']} in flight" if d.get('open') else f"{d['concurrency']} clients"
        what = f"{d.get('store', 'sqlite')} {d.get('build', '')} {how}".replace('  ', ' ')
        p999 = f"{d['p999']:.1f}" if d.get('p999') is not None else ''
        print(f"| {what} | {d['rate']:.0f} | {d['p50']:.1f} | {d['p99']:.1f} | {p999} | {d.get('cpuMsPerMsg', 0):.2f} |")


def main():
    relay_rows(load(sys.argv[1]))
    api_rows(load(sys.argv[2] if len(sys.argv) > 2 else None))


if __name__ == "__main__":
    main()
