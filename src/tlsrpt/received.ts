// Owns reading TLS reports (RFC 8460) that other senders mailed to this relay: inbound mail for
// the relay's own domains is stored as dataDir/inbound/<id>.eml (delivery/local.ts); this finds
// those that are TLS reports (multipart/report; report-type=tlsrpt, or a TLS-Report-Domain field)
// and summarises each: who sent it, the day, and per policy the session counts and failure types.
// Read on demand by `postlane tls-reports received` (nothing is stored besides the mail itself; on
// several nodes each node's dataDir holds the mail it received). Untrusted input: a file too large,
// a gzip bomb or a malformed report is listed with its problem, never thrown; its text fields lose
// their control characters (terminal escapes) before the CLI prints them.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/** Reports larger than this (mail or uncompressed JSON) are not read. */
const MAX_BYTES = 10 * 1024 * 1024;

export interface ReceivedPolicy { type: string; domain: string; successful: number; failed: number; failures: { resultType: string; count: number }[] }
export interface ReceivedReport {
  id: string;
  receivedAt: number;
  from: string | null;
  reportDomain: string | null;
  organization?: string;
  reportId?: string;
  start?: string;
  end?: string;
  policies?: ReceivedPolicy[];
  /** Why the report could not be read (the rest is what the mail said). */
  problem?: string;
}

/** The TLS reports among the stored inbound mail, newest first. */
export async function readReceivedReports(dataDir: string, limit = 100): Promise<ReceivedReport[]> {
  const dir = path.join(dataDir, 'inbound');
  let names: string[];
  try { names = (await fsp.readdir(dir)).filter((n) => n.endsWith('.eml')); } catch { return []; }
  const files = await Promise.all(names.map(async (n) => ({ n, st: await fsp.stat(path.join(dir, n)).catch(() => null) })));
  const out: ReceivedReport[] = [];
  for (const { n, st } of files.filter((f) => f.st?.isFile()).sort((a, b) => b.st!.mtimeMs - a.st!.mtimeMs)) {
    if (out.length >= limit) break;
    const file = path.join(dir, n);
    const head = await readHead(file);
    if (!/^TLS-Report-Domain:|report-type="?tlsrpt/im.test(head)) continue;
    const base = { id: n.slice(0, -4), receivedAt: st!.mtimeMs };
    if (st!.size > MAX_BYTES) { out.push({ ...base, from: null, reportDomain: null, problem: 'larger than 10 MB: not read' }); continue; }
    out.push(await readReport(base, await fsp.readFile(file)));
  }
  return out;
}

async function readHead(file: string): Promise<string> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(16 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    return end >= 0 ? text.slice(0, end) : text;
  } finally {
    await fh.close();
  }
}

async function readReport(base: { id: string; receivedAt: number }, raw: Buffer): Promise<ReceivedReport> {
  const { simpleParser } = await import('mailparser'); // loaded on first use (bench/README.md "Memory")
  const mail = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true });
  const fromValue = str(mail.from?.value[0]?.address) ?? null;
  const header = mail.headers.get('tls-report-domain');
  const r: ReceivedReport = { ...base, from: fromValue, reportDomain: typeof header === 'string' ? clean(header.trim()) : null };
  const att = mail.attachments.find((a) => /^application\/tlsrpt\+(gzip|json)$/i.test(a.contentType));
  if (!att) return { ...r, problem: 'no application/tlsrpt+gzip or +json attachment' };
  let json: string;
  try {
    json = (/gzip$/i.test(att.contentType) ? gunzipSync(att.content, { maxOutputLength: MAX_BYTES }) : att.content).toString('utf8');
  } catch (err) {
    return { ...r, problem: `the attachment does not gunzip: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  let doc: unknown;
  try { doc = JSON.parse(json); } catch { return { ...r, problem: 'the report is not JSON' }; }
  return summarise(r, doc);
}

/** Sender-chosen text, printed on the operator's terminal: control characters (ESC, OSC…) become "?", at most 200 characters. */
const clean = (v: string) => v.replace(/[\x00-\x1f\x7f-\x9f]/g, '?').slice(0, 200);
const str = (v: unknown) => (typeof v === 'string' ? clean(v) : undefined);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function summarise(r: ReceivedReport, doc: unknown): ReceivedReport {
  if (typeof doc !== 'object' || doc === null) return { ...r, problem: 'the report is not a JSON object' };
  const d = doc as Record<string, unknown>;
  const range = (d['date-range'] ?? {}) as Record<string, unknown>;
  const policies = Array.isArray(d.policies) ? d.policies : null;
  if (!policies) return { ...r, problem: 'the report has no policies' };
  return {
    ...r,
    organization: str(d['organization-name']), reportId: str(d['report-id']), start: str(range['start-datetime']), end: str(range['end-datetime']),
    policies: policies.map((p: unknown) => {
      const x = (p ?? {}) as Record<string, unknown>;
      const policy = (x.policy ?? {}) as Record<string, unknown>;
      const summary = (x.summary ?? {}) as Record<string, unknown>;
      const details = Array.isArray(x['failure-details']) ? x['failure-details'] as Record<string, unknown>[] : [];
      return {
        type: str(policy['policy-type']) ?? '?', domain: str(policy['policy-domain']) ?? '?',
        successful: num(summary['total-successful-session-count']), failed: num(summary['total-failure-session-count']),
        failures: details.map((f) => ({ resultType: str(f?.['result-type']) ?? '?', count: num(f?.['failed-session-count']) })),
      };
    }),
  };
}
