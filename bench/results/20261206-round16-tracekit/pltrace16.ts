// THROWAWAY trace (helper round16): each SMTP connection's events on the main thread, and the main
// thread's event-loop delay and ELU, written under PLTRACE_DIR (conns.jsonl, loop.jsonl).
import { appendFileSync } from 'node:fs';
import { performance, monitorEventLoopDelay } from 'node:perf_hooks';
export const TR16 = process.env.PLTRACE_DIR;
export const now16 = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000) / 1000;
const rows: string[] = [];
export const c16 = { open: 0, accepted: 0, closed: 0 };
export function connDone(ev: unknown[]): void { rows.push(JSON.stringify(ev)); }
if (TR16) {
  const h = monitorEventLoopDelay({ resolution: Number(process.env.PLTRACE_RES ?? 2) });
  h.enable();
  let elu = performance.eventLoopUtilization();
  const flush = (): void => {
    const e = performance.eventLoopUtilization(elu); elu = performance.eventLoopUtilization();
    const ms = (x: number): number => Math.round(x / 1000) / 1000;
    appendFileSync(`${TR16}/loop.jsonl`, JSON.stringify({ T: now16(), elu: Math.round(e.utilization * 1000) / 1000, active: Math.round(e.active * 1000) / 1000,
      dmean: ms(h.mean), d50: ms(h.percentile(50)), d99: ms(h.percentile(99)), dmax: ms(h.max), dn: h.count, ...c16 }) + '\n');
    h.reset();
    if (rows.length) { appendFileSync(`${TR16}/conns.jsonl`, rows.join('\n') + '\n'); rows.length = 0; }
  };
  setInterval(flush, 100).unref();
  process.on('exit', flush);
}
