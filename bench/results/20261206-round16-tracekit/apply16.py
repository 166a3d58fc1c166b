#!/usr/bin/env python3
# apply16.py TREE: round16 throwaway trace (connection.ts, listener.ts: each connection's events; the main loop's delay and ELU). Run ../20261206-wal15-tracekit/apply.py TREE too for the put's round (rounds.jsonl; summary: ../20261206-wal15-tracekit/summary.py)
import sys, shutil
T = sys.argv[1]
shutil.copy(__import__('os').path.join(__import__('os').path.dirname(__file__), 'pltrace16.ts'), f'{T}/src/ingress/smtp/pltrace16.ts')
def sub(path, pairs):
    p = f'{T}/{path}'; s = open(p).read()
    for a, b in pairs:
        if s.count(a) != 1: sys.exit(f'{path}: {a!r} found {s.count(a)} times')
        s = s.replace(a, b)
    open(p, 'w').write(s)
sub('src/ingress/smtp/connection.ts', [
 ("import { SessionLogBudget } from './log-budget.js';",
  "import { SessionLogBudget } from './log-budget.js';\nimport { TR16, now16, c16, connDone } from './pltrace16.js';"),
 ("  readonly closed: Promise<void>;\n  #socket: net.Socket;",
  "  readonly closed: Promise<void>;\n  tr16: unknown[] | null = TR16 ? [] : null;\n  #socket: net.Socket;"),
 ("    raw.once('close', () => this.#onClosed());\n  }",
  "    raw.once('close', () => this.#onClosed());\n    if (this.tr16) { c16.open++; c16.accepted++; this.tr16.push('n', now16()); }\n  }"),
 ("      if (this.#ended) return;\n      this.#inbox.push(chunk);",
  "      if (this.#ended) return;\n      if (this.tr16) this.tr16.push('r', now16(), chunk.length);\n      this.#inbox.push(chunk);"),
 ("        if (line === null) break;\n",
  "        if (line === null) break;\n        if (this.tr16 && line !== TOO_LONG) this.tr16.push('c', now16(), line.subarray(0, 4).toString('latin1'));\n"),
 ("    this.#out = [];\n    this.#socket.write(text);",
  "    if (this.tr16) this.tr16.push('w', now16(), this.#out.map((r) => r.code).join('+'));\n    this.#out = [];\n    this.#socket.write(text);"),
 ("    const text = formatReplies(this.#out);\n    this.#out = [];\n    socket.end(text);",
  "    const text = formatReplies(this.#out);\n    if (this.tr16) this.tr16.push('e', now16(), this.#out.map((r) => r.code).join('+'));\n    this.#out = [];\n    socket.end(text);"),
 ("          return await incoming.finish();",
  "          if (this.tr16) this.tr16.push('f0', now16());\n          const fo = await incoming.finish();\n          if (this.tr16) this.tr16.push('f1', now16());\n          return fo;"),
 ("  #onClosed() {\n    this.#ended = true;",
  "  #onClosed() {\n    if (this.tr16) { this.tr16.push('x', now16()); c16.open--; c16.closed++; connDone(this.tr16); this.tr16 = null; }\n    this.#ended = true;"),
])
sub('src/ingress/smtp/listener.ts', [
 ("import type { ListenerName } from './session.js';",
  "import type { ListenerName } from './session.js';\nimport { now16 } from './pltrace16.js';"),
 ("  async #accept(socket: net.Socket) {\n",
  "  async #accept(socket: net.Socket) {\n    const tAcc = now16();\n"),
 ("    this.#connections.add(conn);\n",
  "    conn.tr16?.unshift('a', tAcc, socket.remotePort ?? 0);\n    this.#connections.add(conn);\n"),
])
print('applied16')
