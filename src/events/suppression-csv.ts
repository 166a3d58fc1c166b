// Owns the CSV form of a suppression list (export, and import from a file an operator or another
// provider made): RFC 4180 fields (quotes, "" escapes, CRLF or LF), a header row naming the
// columns (email or address; scope, reason, detail or note, optional), or a bare list of addresses.
// Parsing is total: each bad row is reported with its line number, never thrown.
import { SUPPRESSION_REASONS, SUPPRESSION_SCOPES, type Suppression, type SuppressionReason, type SuppressionScope } from '../store/suppression-store.js';

export const CSV_COLUMNS = ['email', 'scope', 'reason', 'created_at', 'source', 'message_id', 'detail'] as const;

/** A cell a spreadsheet would run as a formula (or one that looks escaped): exported behind a ' (OWASP CSV injection). */
const FORMULA = /^'*[=+\-@\t\r]/;
const defuse = (v: string): string => (FORMULA.test(v) ? `'${v}` : v);
/** Import undoes export's defuse: one ' before a formula-like cell goes. */
const undefuse = (v: string): string => (v.startsWith("'") && FORMULA.test(v) ? v.slice(1) : v);
const quote = (raw: string | null): string => {
  if (raw === null) return '';
  const v = defuse(raw);
  return /[",\r\n]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
};

export function formatSuppressionsCsv(entries: Iterable<Suppression>): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const s of entries) {
    lines.push([s.address, s.scope, s.reason, new Date(s.createdAt).toISOString(), s.source, s.messageId, s.detail].map(quote).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** RFC 4180 records; a quoted field may span lines. */
export function parseCsv(text: string): { line: number; fields: string[] }[] {
  const out: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0]!.trim() === '')) out.push({ line: start, fields });
    fields = []; field = ''; start = line;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else { if (c === '\n') line++; field += c; }
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') { fields.push(field); field = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      line++;
      endRecord();
    } else field += c;
  }
  if (field !== '' || fields.length > 0) endRecord();
  return out;
}

export interface CsvRow { email: string; scope: SuppressionScope; reason: SuppressionReason; detail: string | null }
export interface CsvImport { rows: CsvRow[]; errors: { line: number; message: string }[] }

const EMAIL = /^[^\s@",]{1,64}@[^\s@",]{1,253}$/;

export function parseSuppressionsCsv(text: string): CsvImport {
  const records = parseCsv(text.replace(/^\uFEFF/, ''));
  const head = records[0]?.fields.map((f) => f.trim().toLowerCase()) ?? [];
  const hasHeader = head.includes('email') || head.includes('address');
  const col = (...names: string[]) => (hasHeader ? head.findIndex((h) => names.includes(h)) : -1);
  const [email, scope, reason, detail] = [hasHeader ? col('email', 'address') : 0, col('scope'), col('reason'), col('detail', 'note')];
  const result: CsvImport = { rows: [], errors: [] };
  for (const r of hasHeader ? records.slice(1) : records) {
    const get = (i: number) => (i >= 0 ? undefuse(r.fields[i] ?? '').trim() : '');
    const address = get(email);
    if (!EMAIL.test(address)) { result.errors.push({ line: r.line, message: `not an email address: ${JSON.stringify(address.slice(0, 80))}` }); continue; }
    const s = get(scope) || 'all';
    if (!(SUPPRESSION_SCOPES as readonly string[]).includes(s)) { result.errors.push({ line: r.line, message: `scope must be all or broadcast, not ${JSON.stringify(s)}` }); continue; }
    const why = get(reason);
    result.rows.push({
      email: address, scope: s as SuppressionScope,
      reason: (SUPPRESSION_REASONS as readonly string[]).includes(why) ? why as SuppressionReason : 'manual', detail: get(detail) || null,
    });
  }
  return result;
}
