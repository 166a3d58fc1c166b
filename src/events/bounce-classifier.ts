// Classifies the reply a recipient failed with — a remote SMTP reply (multi-line or not), a DSN's
// Diagnostic-Code, or the text of a failure we decided ourselves ("5.1.10 … null MX") — as hard,
// soft or block with a category, by applying the table in bounce-rules.ts (first match wins).
// Pure; used for 'bounced' events (store/event-mapping.ts) and for inbound bounce reports.
//
// A temporary reply (4xx, or a 4.x.x status without a basic code) is never hard: a rule that says
// hard is read as soft there ("450 4.1.1 User unknown" may be a test setup or a directory outage).
import { BOUNCE_RULES, type BounceCategory, type BounceRule, type BounceType } from './bounce-rules.js';

export type { BounceCategory, BounceType };

export interface BounceClass {
  bounceType: BounceType;
  category: BounceCategory;
  /** The basic reply code, null when the response carries none (a local failure text). */
  code: number | null;
  /** The RFC 3463 enhanced status (normalized: "5.1.1"), null when absent. */
  enhanced: string | null;
  /** The id of the rule that decided, for logs. */
  rule: string;
}

/** Replies are short; a longer text is cut so that patterns run on a bounded input. */
const MAX_TEXT = 4096;
const TYPE_PREFIX = /^\s*[a-z][a-z0-9-]{0,30};\s*/i;                 // "smtp; " in a Diagnostic-Code
const LINE_CODE = /^([245]\d\d)(?:[ -]|:\s?|$)/;                     // "550-", "550 ", Yahoo's "550: "
const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])/;
const EMBEDDED = /\b([245]\d\d)[ -]([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])/; // "returned '550 5.1.10 …'"

const normalize = (m: RegExpExecArray) => `${m[1]}.${Number(m[2])}.${Number(m[3])}`;

interface ParsedResponse { code: number | null; enhanced: string | null; text: string }

/** Strips a leading enhanced status off `s`; returns it (normalized) and the rest. */
function takeEnhanced(s: string): [string | null, string] {
  const m = ENHANCED.exec(s);
  return m ? [normalize(m), s.slice(m[0].length).trimStart()] : [null, s];
}

/** "550-5.1.1 a\r\n550 5.1.1 b" → { code: 550, enhanced: '5.1.1', text: 'a b' }. */
export function parseResponse(response: string): ParsedResponse {
  const lines = response.slice(0, MAX_TEXT).replace(TYPE_PREFIX, '').split(/\r?\n|\r/).map((l) => l.trim()).filter(Boolean);
  let code: number | null = null;
  let enhanced: string | null = null;
  const text: string[] = [];
  for (const [i, original] of lines.entries()) {
    let line = original;
    const c = LINE_CODE.exec(line);
    if (c && (i === 0 || code !== null)) {
      if (i === 0) code = Number(c[1]);
      line = line.slice(c[0].length).trimStart();
    }
    const [e, rest] = takeEnhanced(line);
    if (e !== null && (i === 0 || e === enhanced)) {
      enhanced ??= e;
      line = rest;
    }
    if (line) text.push(line);
  }
  const joined = text.join(' ');
  // A quoted reply: Exim's "550 550 5.1.1 …", Exchange's "Remote server returned '550 5.1.10 …'".
  const quoted = enhanced === null ? EMBEDDED.exec(joined) : null;
  if (quoted) return { code: code ?? Number(quoted[1]), enhanced: `${quoted[2]}.${Number(quoted[3])}.${Number(quoted[4])}`, text: joined };
  return { code, enhanced, text: joined };
}

function isMatch(rule: BounceRule, r: ParsedResponse): boolean {
  if (rule.code !== undefined) {
    if (r.code === null) return false;
    const [min, max] = typeof rule.code === 'number' ? [rule.code, rule.code] : rule.code;
    if (r.code < min || r.code > max) return false;
  }
  if (rule.enhanced && (r.enhanced === null || !rule.enhanced.test(r.enhanced))) return false;
  return !rule.text || rule.text.test(r.text);
}

const isTemporary = (r: ParsedResponse) => (r.code !== null ? r.code < 500 : r.enhanced?.startsWith('4.') === true);

/**
 * The class of a failed recipient's reply. `enhancedHint` (a DSN's Status field, or the status
 * the delivery stage decided) stands in for the enhanced code when the response has none.
 */
export function classifyBounce(response: string, enhancedHint?: string | null): BounceClass {
  const parsed = parseResponse(response);
  if (parsed.enhanced === null && enhancedHint) {
    const m = ENHANCED.exec(enhancedHint.trim());
    if (m) parsed.enhanced = normalize(m);
  }
  const rule = BOUNCE_RULES.find((r) => isMatch(r, parsed)) ?? BOUNCE_RULES[BOUNCE_RULES.length - 1]!;
  const bounceType = rule.bounceType === 'hard' && isTemporary(parsed) ? 'soft' : rule.bounceType;
  return { bounceType, category: rule.category, code: parsed.code, enhanced: parsed.enhanced, rule: rule.id };
}
