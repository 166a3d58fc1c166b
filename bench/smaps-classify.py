#!/usr/bin/env python3
"""smaps-classify.py SMAPS: RSS, PSS and anonymous memory of one process by kind of mapping (MB).

SMAPS is /proc/PID/smaps or bench/smaps-peak.py's peak-smaps.txt. Kinds: the node binary's text,
read-only data and data; shared libraries; glibc's main arena ([heap]); glibc's thread arenas
(anonymous, read-write, starting on a 64 MiB boundary: glibc aligns each arena's heap to
HEAP_MAX_SIZE); thread stacks (read-write after a guard page of at most 64 KiB, 1 MiB or more);
anonymous executable mappings (V8's code); the other anonymous mappings (V8's heap pages, large
buffers that malloc mapped on their own). With -a, each thread arena's RSS too.
"""
import collections
import re
import sys

HDR = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$")


def parse(path):
    maps, cur, head = [], None, []
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("#"):
            head.append(line)
            continue
        m = HDR.match(line)
        if m:
            cur = dict(start=int(m[1], 16), end=int(m[2], 16), perm=m[3], path=m[4].strip(), f={})
            maps.append(cur)
        elif cur is not None and ":" in line:
            k, v = line.split(":", 1)
            v = v.split()
            if v and v[0].isdigit():
                cur["f"][k] = int(v[0])
    return head, maps


def kind(maps, i):
    m = maps[i]
    p, perm, size = m["path"], m["perm"], m["end"] - m["start"]
    if p.endswith("/node"):
        return "node binary " + {"r--p": "read-only data", "r-xp": "text", "rw-p": "data"}.get(perm, perm)
    if ".so" in p or p.endswith(".node"):
        return "shared libraries"
    if p == "[heap]":
        return "malloc main arena [heap]"
    if p.startswith("["):
        return p
    if p:
        return "file " + p.split("/")[-1]
    if m["start"] % (64 << 20) == 0 and "rw" in perm:
        return "malloc thread arenas"
    prev = maps[i - 1] if i else None
    if "rw" in perm and prev and prev["end"] == m["start"] and prev["perm"] == "---p" \
            and prev["end"] - prev["start"] <= 65536 and size >= (1 << 20):
        return "thread stacks"
    if "x" in perm:
        return "anonymous executable (V8 code)"
    return "other anonymous (V8 heaps, mapped buffers)"


def main():
    args = [a for a in sys.argv[1:] if a != "-a"]
    head, maps = parse(args[0])
    for h in head:
        print(h[:300])
    agg = collections.defaultdict(lambda: [0, 0, 0, 0])
    arenas = []
    for i, m in enumerate(maps):
        k = kind(maps, i)
        a = agg[k]
        a[0] += m["f"].get("Rss", 0)
        a[1] += m["f"].get("Pss", 0)
        a[2] += m["f"].get("Anonymous", 0)
        a[3] += 1
        if k == "malloc thread arenas":
            arenas.append(m["f"].get("Rss", 0) / 1024)
    tot = [0, 0, 0]
    print(f"{'kind':45s} {'RSS MB':>7s} {'PSS MB':>7s} {'anon MB':>7s} mappings")
    for k, a in sorted(agg.items(), key=lambda kv: -kv[1][1]):
        if a[0]:
            print(f"{k:45s} {a[0] / 1024:7.1f} {a[1] / 1024:7.1f} {a[2] / 1024:7.1f} {a[3]}")
            for j in range(3):
                tot[j] += a[j]
    print(f"{'total':45s} {tot[0] / 1024:7.1f} {tot[1] / 1024:7.1f} {tot[2] / 1024:7.1f}")
    if "-a" in sys.argv:
        print("thread arenas, RSS MB:", " ".join(f"{x:.1f}" for x in sorted(arenas, reverse=True)))


if __name__ == "__main__":
    main()
