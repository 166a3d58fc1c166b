#!/usr/bin/env python3
"""smaps-peak.py PID OUTDIR: keep /proc/PID/smaps at the process's highest PSS (bench/README.md, eighth session).

Samples PSS (smaps_rollup) every 0.25 s until PID exits; at each new maximum it writes
OUTDIR/peak-smaps.txt (two comment lines: the PSS in KB and the thread names, then the smaps).
Read it with bench/smaps-classify.py. Started by a relay plugin after the relay, e.g.
  relay_start() { orig_relay_start; sleep 0.3; python3 bench/smaps-peak.py "$(cat "$RELAY_DIR/relay.pid")" "$RELAY_DIR/log" & }
"""
import os
import sys
import time


def main():
    pid, out = sys.argv[1], sys.argv[2]
    best = 0
    while os.path.exists(f"/proc/{pid}"):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                pss = next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
            if pss > best:
                best = pss
                with open(f"/proc/{pid}/smaps") as f:
                    smaps = f.read()
                threads = []
                for t in os.listdir(f"/proc/{pid}/task"):
                    try:
                        with open(f"/proc/{pid}/task/{t}/comm") as f:
                            threads.append(f.read().strip())
                    except OSError:
                        pass
                with open(os.path.join(out, "peak-smaps.txt"), "w") as f:
                    f.write(f"# pss_kb {pss} t {time.time():.1f}\n# threads {' | '.join(sorted(threads))}\n{smaps}")
        except (OSError, StopIteration):
            pass
        time.sleep(0.25)


if __name__ == "__main__":
    main()
