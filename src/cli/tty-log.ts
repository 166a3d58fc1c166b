// Owns the human form of the relay's log lines on a terminal: pino's JSON line becomes
// "18:19:31 WARN  tls.self_signed  generated a self-signed certificate…  dir=/srv/data/tls".
// Files, pipes and journald get the JSON lines unchanged (events/log.ts); this is a pino
// destination, so nothing else in the relay knows which form is used.

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLOURS: Record<number, string> = { 40: '\x1b[33m', 50: '\x1b[31m', 60: '\x1b[31m' };
const HIDDEN = new Set(['level', 'time', 'msg', 'event', 'svc', 'pid', 'hostname']);

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v && typeof v === 'object' && 'message' in v && typeof (v as { message: unknown }).message === 'string') {
    return JSON.stringify((v as { message: string }).message); // an Error serialized by pino: its message, no stack
  }
  return JSON.stringify(v) ?? String(v);
}

const clock = (iso: unknown): string => {
  const d = typeof iso === 'string' || typeof iso === 'number' ? new Date(iso) : new Date();
  return Number.isNaN(d.getTime()) ? '--:--:--' : d.toTimeString().slice(0, 8);
};

/** One JSON log line → one readable line (lines that are not JSON pass through). */
export function formatLogLine(line: string, colour = false): string {
  let o: Record<string, unknown>;
  try { o = JSON.parse(line) as Record<string, unknown>; } catch { return line.endsWith('\n') ? line : `${line}\n`; }
  const level = typeof o.level === 'number' ? o.level : 30;
  const name = (LEVELS[level] ?? String(level)).padEnd(5);
  const tag = colour && COLOURS[level] ? `${COLOURS[level]}${name}\x1b[0m` : name;
  const fields = Object.entries(o).filter(([k]) => !HIDDEN.has(k)).map(([k, v]) => `${k}=${formatValue(v)}`);
  const parts = [clock(o.time), tag, typeof o.event === 'string' ? o.event : '', typeof o.msg === 'string' ? o.msg : '', fields.join(' ')];
  return parts.filter(Boolean).join('  ') + '\n';
}

/** A pino destination writing readable lines to `out` (a terminal). */
export function ttyLogDestination(out: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): { write(line: string): void } {
  const colour = !env.NO_COLOR && env.TERM !== 'dumb';
  return { write: (chunk: string) => { out.write(chunk.split('\n').filter(Boolean).map((l) => formatLogLine(l, colour)).join('')); } };
}
