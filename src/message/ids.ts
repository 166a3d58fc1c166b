// Queue ids: 20 characters, time-ordered (ms since epoch, base32) then random, safe in file
// names, Message-IDs and logs. The random part is 11 base32 digits (55 bits), one per random byte
// taken from a pool refilled 4 KB at a time (a randomBytes call, a hex string and BigInt shifts
// per id were 1.8 % of the API's busy thread: bench/README.md "HTTP API, fifth session").
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32
const TIME_DIGITS = 9;
const RANDOM_DIGITS = 11;

const pool = Buffer.alloc(4096);
let poolAt = pool.length;

/** `n` (an integer below 2^53) in `len` base32 digits, most significant first. */
function base32(n: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) { s = ALPHABET[n % 32] + s; n = Math.floor(n / 32); }
  return s;
}

export function newQueueId(now = Date.now()): string {
  if (poolAt + RANDOM_DIGITS > pool.length) { randomFillSync(pool); poolAt = 0; }
  let rand = '';
  // 256 is a multiple of 32: the low five bits of a uniform byte are a uniform digit.
  for (let i = 0; i < RANDOM_DIGITS; i++) rand += ALPHABET[pool[poolAt++]! & 31];
  return base32(now, TIME_DIGITS) + rand;
}

export const isQueueId = (s: string) => /^[0-9A-HJKMNP-TV-Z]{20}$/.test(s);
