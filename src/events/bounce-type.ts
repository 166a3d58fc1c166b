// Hard or soft: the one classification of a bounced recipient reported in 'bounced' events
// (dialect-free, used by both stores when they write the event in the recipient's transaction).
// Hard means the address itself is bad and retrying later will not help: enhanced 5.1.x (bad
// mailbox, address or domain, including 5.1.10 null MX, RFC 7505), or a basic 550/551/553 reply
// without an enhanced code. Everything else is soft (mailbox full 5.2.2, size 5.3.4, policy or
// reputation 5.7.x, a local failure...): the recipient may accept mail again.

export type BounceType = 'hard' | 'soft';

export interface BounceClass {
  bounceType: BounceType;
  /** The basic reply code, null when the response carries none (a local failure text). */
  code: number | null;
  /** The RFC 3463 enhanced status, null when absent. */
  enhanced: string | null;
}

const BASIC = /^\s*(\d{3})(?:[ -]|$)/;
const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)/;
const HARD_BASIC = new Set([550, 551, 553]);

/** "550 5.1.1 <a@b>: no such user" → { bounceType: 'hard', code: 550, enhanced: '5.1.1' }. */
export function classifyBounce(response: string): BounceClass {
  const firstLine = response.split(/\r?\n/)[0] ?? '';
  const basic = BASIC.exec(firstLine);
  const code = basic ? Number(basic[1]) : null;
  const rest = basic ? firstLine.slice(basic[0].length).trimStart() : firstLine.trimStart();
  const e = ENHANCED.exec(rest);
  const enhanced = e ? `${e[1]}.${Number(e[2])}.${Number(e[3])}` : null;
  let hard: boolean;
  if (enhanced) hard = enhanced.startsWith('5.1.');
  else hard = code !== null && HARD_BASIC.has(code);
  return { bounceType: hard ? 'hard' : 'soft', code, enhanced };
}
