// Owns the artefacts of an outbound TLS report (RFC 8460): the JSON report of one policy domain
// and day built from its counters (§4), the domain's TLSRPT record (`_smtp._tls` TXT, §3) with its
// rua destinations, the report file name (§5.3) and the report mail: multipart/report with
// report-type=tlsrpt, the TLS-Report-Domain and TLS-Report-Submitter header fields and the
// gzip-compressed report as an application/tlsrpt+gzip attachment (§5.3). Output uses CRLF only.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { formatDate } from '../events/dsn.js';
import { parseMailbox } from '../message/address.js';
import type { TlsOutcomeCount, TlsPolicyType } from '../store/tls-report-store.js';
import { DAY_MS } from './outcomes.js';

export interface TlsrptJson {
  'organization-name': string;
  'date-range': { 'start-datetime': string; 'end-datetime': string };
  'contact-info': string;
  'report-id': string;
  policies: {
    policy: { 'policy-type': TlsPolicyType; 'policy-string'?: string[]; 'policy-domain': string; 'mx-host'?: string[] };
    summary: { 'total-successful-session-count': number; 'total-failure-session-count': number };
    'failure-details'?: {
      'result-type': string; 'receiving-mx-hostname'?: string; 'receiving-ip'?: string; 'failed-session-count': number; 'failure-reason-code'?: string;
    }[];
  }[];
}

export interface ReportIdentity { organization: string; contact: string; hostname: string }

/** RFC 3339 date-time in UTC, to the second. */
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Stable for a domain and day, so a retried report keeps its id. */
export const reportId = (day: number, domain: string, hostname: string) => `${iso(day).slice(0, 10)}.${domain}@${hostname}`;

/** The report of `domain` for the UTC day starting at `day`, from that day's counters of the domain. */
export function buildReport(id: ReportIdentity, day: number, domain: string, counts: readonly TlsOutcomeCount[]): TlsrptJson {
  const byPolicy = new Map<string, TlsOutcomeCount[]>();
  for (const c of counts) {
    if (c.domain !== domain || c.day !== day) continue;
    const k = `${c.policyType}\u0000${c.policyHash}`;
    byPolicy.set(k, [...(byPolicy.get(k) ?? []), c]);
  }
  const policies = [...byPolicy.values()].map((rows) => {
    const first = rows[0]!;
    const p = JSON.parse(first.policy) as { strings: string[]; mxHost: string[] };
    const failures = rows.filter((r) => r.resultType !== 'success');
    return {
      policy: {
        'policy-type': first.policyType,
        ...(p.strings.length > 0 ? { 'policy-string': p.strings } : {}),
        'policy-domain': domain,
        ...(p.mxHost.length > 0 ? { 'mx-host': p.mxHost } : {}),
      },
      summary: {
        'total-successful-session-count': rows.filter((r) => r.resultType === 'success').reduce((n, r) => n + r.n, 0),
        'total-failure-session-count': failures.reduce((n, r) => n + r.n, 0),
      },
      ...(failures.length > 0 ? {
        'failure-details': failures.map((r) => ({
          'result-type': r.resultType,
          ...(r.mx ? { 'receiving-mx-hostname': r.mx } : {}),
          ...(r.ip ? { 'receiving-ip': r.ip } : {}),
          'failed-session-count': r.n,
          ...(r.reason ? { 'failure-reason-code': r.reason } : {}),
        })),
      } : {}),
    };
  });
  return {
    'organization-name': id.organization,
    'date-range': { 'start-datetime': iso(day), 'end-datetime': iso(day + DAY_MS - 1000) },
    'contact-info': id.contact,
    'report-id': reportId(day, domain, id.hostname),
    policies,
  };
}

export type RuaDestination = { kind: 'mailto'; address: string; uri: string } | { kind: 'https'; url: string; uri: string };

/** Destinations served per report: a domain listing hundreds of mailto: URIs cannot make the relay mail them all. */
export const MAX_RUA = 5;

/**
 * The rua destinations of a domain's `_smtp._tls` TXT records (§3): of the records starting with
 * "v=TLSRPTv1", exactly one must remain, else the domain does not implement TLSRPT (null). Unknown
 * URI schemes are ignored; only the first MAX_RUA usable destinations are kept.
 */
export function parseTlsrptRecord(txt: string[][]): RuaDestination[] | null {
  const records = txt.map((parts) => parts.join('')).filter((r) => /^v=TLSRPTv1\s*(;|$)/.test(r));
  if (records.length !== 1) return null;
  const fields = new Map<string, string>();
  for (const f of records[0]!.split(';')) {
    const eq = f.indexOf('=');
    if (eq > 0) fields.set(f.slice(0, eq).trim().toLowerCase(), f.slice(eq + 1).trim());
  }
  const rua = fields.get('rua');
  if (!rua) return null;
  const out: RuaDestination[] = [];
  for (const raw of rua.split(',').map((u) => u.trim()).filter(Boolean)) {
    if (out.length >= MAX_RUA) break;
    if (/^mailto:/i.test(raw)) {
      let address: string;
      try { address = decodeURIComponent(raw.slice(7).split('?')[0]!); } catch { continue; }
      // A plain mailbox at a domain name: no controls, no header syntax, no IP literal (the domain's DNS chose it).
      const mailbox = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(address) && !/[\x00-\x1f\x7f"]/.test(address) ? parseMailbox(address) : null;
      if (mailbox && !mailbox.isAddressLiteral) out.push({ kind: 'mailto', address, uri: raw });
    } else if (/^https:\/\//i.test(raw)) {
      try { out.push({ kind: 'https', url: new URL(raw).toString(), uri: raw }); } catch { /* not a URL */ }
    }
  }
  return out.length > 0 ? out : null;
}

/** §5.3: submitter!policy-domain!begin-timestamp!end-timestamp.json.gz (seconds since the epoch). */
export function reportFileName(submitter: string, report: TlsrptJson, domain: string): string {
  const begin = Date.parse(report['date-range']['start-datetime']) / 1000;
  const end = Date.parse(report['date-range']['end-datetime']) / 1000;
  return `${submitter}!${domain}!${begin}!${end}.json.gz`;
}

export const gzipReport = (report: TlsrptJson): Buffer => gzipSync(Buffer.from(JSON.stringify(report)));

export interface ReportMail { from: string; to: string; hostname: string; domain: string; report: TlsrptJson; gz: Buffer; messageId: string; date: number }

/** The report mail of §5.3 (unsigned). */
export function buildReportMail(m: ReportMail): Buffer {
  const boundary = `tlsrpt-${randomBytes(12).toString('hex')}`;
  const file = reportFileName(m.hostname, m.report, m.domain);
  const b64 = m.gz.toString('base64').replace(/.{1,76}/g, (l) => `${l}\r\n`);
  const text = [
    `This is an aggregate TLS report from ${m.hostname} for ${m.domain}`,
    `(${m.report['date-range']['start-datetime']} to ${m.report['date-range']['end-datetime']}), as RFC 8460 describes.`,
  ];
  const lines = [
    `From: <${m.from}>`,
    `To: <${m.to}>`,
    `Subject: Report Domain: ${m.domain} Submitter: ${m.hostname} Report-ID: <${m.report['report-id']}>`,
    `Date: ${formatDate(m.date)}`,
    `Message-ID: <${m.messageId}@${m.hostname}>`,
    `TLS-Report-Domain: ${m.domain}`,
    `TLS-Report-Submitter: ${m.hostname}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type="tlsrpt";`,
    ` boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 7bit',
    '',
    ...text,
    '',
    `--${boundary}`,
    'Content-Type: application/tlsrpt+gzip',
    'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment;`,
    ` filename="${file}"`,
    '',
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n${b64}\r\n--${boundary}--\r\n`);
}
