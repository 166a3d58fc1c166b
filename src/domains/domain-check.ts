// Owns `domains check`: asks DNS (through the resolver it is given: the configured servers) for
// each expected record and reports, record by record, ok / missing / wrong / error, with what was
// found and the fix. Lookups run in parallel; a failed lookup is 'error', never 'missing'.
import type { ExpectedRecord } from './dns-records.js';

/** The lookups this module needs; createResolver (delivery/resolver.ts) provides them. */
export interface RecordResolver {
  resolveTxt(name: string): Promise<string[][]>;
  resolveCname(name: string): Promise<string[]>;
}

export type CheckStatus = 'ok' | 'missing' | 'wrong' | 'error';

export interface RecordCheck {
  record: ExpectedRecord;
  status: CheckStatus;
  /** What DNS answered (TXT records with their strings joined), relevant ones only. */
  found: string[];
  /** What to do, for anything but 'ok'. */
  fix: string | null;
  /** Advice even when ok (e.g. DMARC still at p=none). */
  detail?: string;
}

type Verdict = Omit<RecordCheck, 'record' | 'found'>;

const NO_RECORDS = new Set(['nxdomain', 'nodata', 'ENOTFOUND', 'ENODATA']);

/** NXDOMAIN or NODATA: there is no such record (as opposed to a failed lookup). */
function isNoRecords(err: unknown): boolean {
  const e = err as { failure?: unknown; code?: unknown } | null;
  return NO_RECORDS.has(String(e?.failure)) || NO_RECORDS.has(String(e?.code));
}

async function lookup(resolver: RecordResolver, r: ExpectedRecord): Promise<string[] | { error: string }> {
  try {
    if (r.type === 'CNAME') return (await resolver.resolveCname(r.name)).map((t) => t.replace(/\.$/, '').toLowerCase());
    return (await resolver.resolveTxt(r.name)).map((chunks) => chunks.join(''));
  } catch (err) {
    if (isNoRecords(err)) return [];
    return { error: String((err as { errorCode?: unknown; code?: unknown }).errorCode ?? (err as { code?: unknown }).code ?? 'lookup failed') };
  }
}

/** Tag=value pairs of a DKIM/DMARC/STS-style record, names lower-cased, whitespace removed from values. */
export function parseTags(record: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of record.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).replace(/\s+/g, ''));
  }
  return tags;
}

const publish = (r: ExpectedRecord) => `publish ${r.type} ${r.name} "${r.value}"`;
const replace = (r: ExpectedRecord) => `replace the ${r.type} record at ${r.name} with "${r.value}"`;
const startsWithTag = (rec: string, tag: string) => new RegExp(`^\\s*${tag}\\s*(;|\\s|$)`, 'i').test(rec);

/** DKIM: the p= (and k=) of some record at the selector name must be ours. */
export function judgeDkim(r: ExpectedRecord, found: string[]): Verdict {
  const candidates = found.filter((t) => parseTags(t).has('p'));
  if (candidates.length === 0) return { status: 'missing', fix: publish(r) };
  const ok = candidates.some((t) => {
    const tags = parseTags(t);
    return tags.get('p') === r.key!.publicKey && (tags.get('k') ?? 'rsa').toLowerCase() === r.key!.algorithm;
  });
  return ok ? { status: 'ok', fix: null } : { status: 'wrong', fix: `${replace(r)} (the published key is not this selector's key)` };
}

/** SPF: exactly one v=spf1 record, containing each of our mechanisms (any qualifier but '-'/'~'/'?'). */
function judgeSpf(r: ExpectedRecord, found: string[]): Verdict {
  const spf = found.filter((t) => startsWithTag(t, 'v=spf1'));
  if (spf.length === 0) return { status: 'missing', fix: publish(r) };
  if (spf.length > 1) return { status: 'wrong', fix: `merge the ${spf.length} SPF records at ${r.name} into one (several are a permerror)` };
  const terms = spf[0]!.toLowerCase().split(/\s+/).map((t) => t.replace(/^\+/, ''));
  const ours = r.value.split(/\s+/).slice(1, -1);
  const absent = ours.filter((m) => !terms.includes(m.toLowerCase()));
  if (absent.length === 0) return { status: 'ok', fix: null };
  const merged = [...spf[0]!.trim().split(/\s+/)];
  const all = merged.findIndex((t) => /^[-~?+]?all$/i.test(t) || /^redirect=/i.test(t));
  merged.splice(all < 0 ? merged.length : all, 0, ...absent);
  return { status: 'wrong', fix: `add ${absent.join(' ')} to the SPF record at ${r.name}: "${merged.join(' ')}"` };
}

function judgeDmarc(r: ExpectedRecord, found: string[]): Verdict {
  const dmarc = found.filter((t) => startsWithTag(t, 'v=DMARC1'));
  if (dmarc.length === 0) return { status: 'missing', fix: publish(r) };
  if (dmarc.length > 1) return { status: 'wrong', fix: `keep a single DMARC record at ${r.name} (receivers ignore several)` };
  const p = parseTags(dmarc[0]!).get('p')?.toLowerCase();
  if (!p || !['none', 'quarantine', 'reject'].includes(p)) return { status: 'wrong', fix: `${replace(r)} (p= must be none, quarantine or reject)` };
  return { status: 'ok', fix: null, ...(p === 'none' ? { detail: 'p=none only monitors; tighten to quarantine/reject once reports are clean' } : {}) };
}

/** A TXT record starting with `version` and carrying `tag` (MTA-STS id=, TLS-RPT rua=). */
function judgeTagged(version: string, tag: string) {
  return (r: ExpectedRecord, found: string[]): Verdict => {
    const recs = found.filter((t) => startsWithTag(t, version));
    if (recs.length === 0) return { status: 'missing', fix: publish(r) };
    if (recs.length > 1) return { status: 'wrong', fix: `keep a single ${version} record at ${r.name}` };
    return parseTags(recs[0]!).get(tag) ? { status: 'ok', fix: null } : { status: 'wrong', fix: `${replace(r)} (${tag}= is missing)` };
  };
}

function judgeCname(r: ExpectedRecord, found: string[]): Verdict {
  if (found.length === 0) return { status: 'missing', fix: publish(r) };
  return found.includes(r.value.replace(/\.$/, '').toLowerCase()) ? { status: 'ok', fix: null } : { status: 'wrong', fix: replace(r) };
}

function judge(r: ExpectedRecord, found: string[]): Verdict {
  if (r.type === 'CNAME') return judgeCname(r, found);
  switch (r.purpose) {
    case 'dkim': return judgeDkim(r, found);
    case 'spf': return judgeSpf(r, found);
    case 'dmarc': return judgeDmarc(r, found);
    case 'mta-sts': return judgeTagged('v=STSv1', 'id')(r, found);
    case 'tls-rpt': return judgeTagged('v=TLSRPTv1', 'rua')(r, found);
    default: return judgeCname(r, found);
  }
}

/** Only the answers that matter for this record (e.g. the SPF record among a domain's TXT records). */
function relevant(r: ExpectedRecord, answers: string[]): string[] {
  if (r.purpose === 'spf') return answers.filter((t) => startsWithTag(t, 'v=spf1'));
  return answers;
}

export async function checkRecords(records: readonly ExpectedRecord[], resolver: RecordResolver): Promise<RecordCheck[]> {
  return Promise.all(records.map(async (record) => {
    const answers = await lookup(resolver, record);
    if (!Array.isArray(answers)) {
      return { record, status: 'error' as const, found: [], fix: `the DNS lookup failed (${answers.error}); check the resolvers (dns.servers) and try again` };
    }
    return { record, found: relevant(record, answers), ...judge(record, answers) };
  }));
}

/** Any required record not ok (errors included): `domains check` exits non-zero. */
export const hasProblems = (checks: readonly RecordCheck[]) => checks.some((c) => c.record.required && c.status !== 'ok');
