#!/usr/bin/env python3
"""node-binary-pages.py PID: which parts of the node executable are resident in PID (MB).

Reads /proc/PID/pagemap (the present bit; root or the process's owner) for every page of the
mappings of the executable, and sorts each page by its file offset into .text, ICU's data
(the icudt*_dat symbol, inside .rodata), the rest of .rodata, and the rest of the file (ELF
headers, symbol and relocation tables, .data). Section and symbol offsets come from readelf.
"""
import os
import re
import struct
import subprocess
import sys


def layout(exe):
    secs, icu = {}, None
    for line in subprocess.run(["readelf", "-SW", exe], capture_output=True, text=True, check=True).stdout.splitlines():
        m = re.search(r"\]\s+(\.\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
        if m:
            secs[m[1]] = (int(m[2], 16), int(m[3], 16), int(m[4], 16))  # addr, offset, size
    for line in subprocess.run(["readelf", "-sW", exe], capture_output=True, text=True, check=True).stdout.splitlines():
        f = line.split()
        if len(f) >= 8 and re.fullmatch(r"icudt\d+_dat", f[7]):
            addr, size = int(f[1], 16), int(f[2], 0)
            ro = secs[".rodata"]
            icu = (ro[1] + addr - ro[0], size)  # as a file offset
            break
    return secs, icu


def main():
    pid = sys.argv[1]
    exe = os.path.realpath(f"/proc/{pid}/exe")
    secs, icu = layout(exe)
    text, ro = secs[".text"], secs[".rodata"]
    counts = {"text": 0, "ICU data": 0, "rodata (rest)": 0, "rest of the file": 0}
    with open(f"/proc/{pid}/pagemap", "rb") as pm:
        for line in open(f"/proc/{pid}/maps"):
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) \S+ \S+\s+(\S*)", line)
            if not m or os.path.realpath(m[4] or "/") != exe:
                continue
            start, end, off = int(m[1], 16), int(m[2], 16), int(m[3], 16)
            n = (end - start) // 4096
            pm.seek(start // 4096 * 8)
            data = pm.read(n * 8)
            for i in range(n):
                if not (struct.unpack_from("<Q", data, i * 8)[0] >> 63) & 1:
                    continue
                o = off + i * 4096
                if text[1] <= o < text[1] + text[2]:
                    counts["text"] += 1
                elif icu and icu[0] <= o < icu[0] + icu[1]:
                    counts["ICU data"] += 1
                elif ro[1] <= o < ro[1] + ro[2]:
                    counts["rodata (rest)"] += 1
                else:
                    counts["rest of the file"] += 1
    total = sum(counts.values())
    print(pid, exe, " ".join(f"{k} {v * 4 / 1024:.1f}" for k, v in counts.items()), f"total {total * 4 / 1024:.1f} MB resident")


if __name__ == "__main__":
    main()
