// Owns the MTA-STS formats (RFC 8461) as pure functions: the `_mta-sts.<domain>` TXT record
// (§3.1), the policy file served at https://mta-sts.<domain>/.well-known/mta-sts.txt (§3.2), and
// matching an MX host name against the policy's mx patterns (§4.1). mta-sts.ts does the I/O.

export type MtaStsMode = 'enforce' | 'testing' | 'none';

export interface MtaStsPolicy {
  mode: MtaStsMode;
  /** "mail.example.com" or "*.example.com" (exactly one leftmost label), lower-case. */
  mx: string[];
  /** Seconds the policy may be cached (at most one year). */
  maxAge: number;
}

/** RFC 8461 §3.2: max_age is at most 31557600 seconds. */
export const MAX_AGE_LIMIT = 31_557_600;
/** A policy file larger than this is refused (RFC 8461 §3.3 suggests 64 KiB). */
export const MAX_POLICY_BYTES = 64 * 1024;

const ID = /^[A-Za-z0-9]{1,32}$/;
const KEY = /^[A-Za-z0-9_-]+$/;
const MX_PATTERN = /^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/;

/**
 * The policy id from the TXT records of `_mta-sts.<domain>` (each record as its chunks), or null
 * when there is no valid record: none starts with "v=STSv1", more than one does, or its id is bad.
 */
export function parseStsRecord(records: string[][]): { id: string } | null {
  const sts = records.map((chunks) => chunks.join('')).filter((r) => /^v=STSv1\s*(;|$)/.test(r));
  if (sts.length !== 1) return null;
  const fields = new Map<string, string>();
  // Split by hand, not /^\s*(key)=(.*?)\s*$/: the record is the recipient domain's, up to 64 KiB,
  // and that pattern backtracks quadratically on a value of spaces (60 KB: 3.8 s of the main thread
  // on every delivery to the domain; attack29). The same fields: key's start and value's end trimmed.
  for (const part of sts[0]!.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trimStart();
    const value = part.slice(eq + 1).trimEnd();
    if (KEY.test(key) && !/[\r\n\u2028\u2029]/.test(value) && !fields.has(key)) fields.set(key, value);
  }
  const id = fields.get('id');
  return id !== undefined && ID.test(id) ? { id } : null;
}

export type PolicyParse = { ok: true; policy: MtaStsPolicy } | { ok: false; error: string };

/** Parses a policy file. Unknown keys are ignored; for known keys the first occurrence counts. */
export function parseMtaStsPolicy(text: string): PolicyParse {
  const fields = new Map<string, string>();
  const mx: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const m = /^([A-Za-z0-9_.-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!m) return { ok: false, error: `malformed line "${line.slice(0, 40)}"` };
    const key = m[1]!.toLowerCase();
    if (key === 'mx') mx.push(m[2]!.toLowerCase().replace(/\.$/, ''));
    else if (!fields.has(key)) fields.set(key, m[2]!);
  }
  if (fields.get('version') !== 'STSv1') return { ok: false, error: 'version is not STSv1' };
  const mode = fields.get('mode');
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none') return { ok: false, error: 'mode is not enforce, testing or none' };
  const maxAgeText = fields.get('max_age') ?? '';
  if (!/^\d{1,10}$/.test(maxAgeText)) return { ok: false, error: 'max_age is missing or not a number' };
  const bad = mx.find((p) => !MX_PATTERN.test(p));
  if (bad !== undefined) return { ok: false, error: `invalid mx pattern "${bad.slice(0, 60)}"` };
  if (mode !== 'none' && mx.length === 0) return { ok: false, error: 'no mx patterns' };
  return { ok: true, policy: { mode, mx, maxAge: Math.min(Number(maxAgeText), MAX_AGE_LIMIT) } };
}

/** RFC 8461 §4.1: exact (case-insensitive) or "*.example.com" standing for exactly one label. */
export function matchesMxPattern(host: string, pattern: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const p = pattern.toLowerCase().replace(/\.$/, '');
  if (!p.startsWith('*.')) return h === p;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === p.slice(2);
}

export const isMxInPolicy = (host: string, policy: Pick<MtaStsPolicy, 'mx'>): boolean =>
  policy.mx.some((p) => matchesMxPattern(host, p));
