#!/usr/bin/env python3
"""smtp-rate.py HOST PORT RATE COUNT [SIZE=4096] [MAXCONC=50]: an open-loop SMTP load at a fixed rate.
One connection a message (as smtp-source without -d): 220, EHLO, MAIL, RCPT, DATA, body, QUIT. Message i
starts at T0 + i / RATE whatever the earlier ones do (at most MAXCONC in flight; a start that finds
MAXCONC in flight waits, and is counted as late). The body is SIZE bytes of 70-character lines, like
smtp-source -l SIZE. Prints one JSON line: sent, failed, late, seconds, achieved rate.
Used by bench/cluster-work.py for offered loads well below saturation (smtp-source has no rate)."""
import asyncio, json, sys, time

host, port, rate, count = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
size = int(sys.argv[5]) if len(sys.argv) > 5 else 4096
maxconc = int(sys.argv[6]) if len(sys.argv) > 6 else 50
line = b"La de da de da 1. La de da de da 2. La de da de da 3. La de da de 4.\r\n"
body = (line * (size // len(line) + 1))[:size]
if not body.endswith(b"\r\n"): body = body[:-2] + b"\r\n"
stats = {"sent": 0, "failed": 0, "late": 0}


async def reply(r):
    while True:
        l = await r.readline()
        if not l: raise ConnectionError("closed")
        if l[3:4] != b"-": return int(l[:3])


async def one(i, sem):
    async with sem:
        try:
            r, w = await asyncio.open_connection(host, port)
            assert await reply(r) == 220
            for cmd, want in ((b"EHLO gen.src.test", 250), (b"MAIL FROM:<sender@src.test>", 250),
                              (b"RCPT TO:<rcpt@dst.test>", 250), (b"DATA", 354)):
                w.write(cmd + b"\r\n")
                code = await reply(r)
                if code != want: raise ValueError(f"{cmd!r} -> {code}")
            w.write(b"From: <sender@src.test>\r\nTo: <rcpt@dst.test>\r\nSubject: rate %d\r\n\r\n" % i + body + b".\r\n")
            if await reply(r) != 250: raise ValueError("DATA end")
            w.write(b"QUIT\r\n")
            await reply(r)
            w.close()
            stats["sent"] += 1
        except Exception as e:  # noqa: BLE001
            stats["failed"] += 1
            print(f"message {i}: {e}", file=sys.stderr)


async def main():
    sem = asyncio.Semaphore(maxconc)
    t0 = time.monotonic()
    tasks = []
    for i in range(count):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0: await asyncio.sleep(delay)
        elif delay < -0.05: stats["late"] += 1
        tasks.append(asyncio.create_task(one(i, sem)))
    await asyncio.gather(*tasks)
    el = time.monotonic() - t0
    print(json.dumps({**stats, "seconds": round(el, 2), "rate": round(stats["sent"] / el, 1)}))

asyncio.run(main())
