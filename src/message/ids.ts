// Queue ids: 20 characters, time-ordered (ms since epoch, base32) then random, safe in file
// names, Message-IDs and logs. The random part is drawn from a pool refilled 4 KiB at a time:
// one randomBytes call per id was ~1 % of the relay's main thread on small messages.
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32
const TIME_CHARS = 9; // 45 bits of milliseconds: good until the year 3084
const RANDOM_CHARS = 11; // 55 bits, one uniform 5-bit digit per pool byte

const pool = Buffer.allocUnsafe(4096 - (4096 % RANDOM_CHARS));
let used = pool.length;

export function newQueueId(now = Date.now()): string {
  let s = '';
  let t = now;
  for (let i = 0; i < TIME_CHARS; i++) { s = ALPHABET[t % 32] + s; t = Math.floor(t / 32); }
  if (used === pool.length) { randomFillSync(pool); used = 0; }
  for (let i = 0; i < RANDOM_CHARS; i++) s += ALPHABET[pool[used++] & 31];
  return s;
}

export const isQueueId = (s: string) => /^[0-9A-HJKMNP-TV-Z]{20}$/.test(s);
