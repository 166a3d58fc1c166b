// Queue ids: 20 characters, time-ordered (ms since epoch, base32) then random, safe in file
// names, Message-IDs and logs.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32

function base32(n: bigint, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) { s = ALPHABET[Number(n & 31n)] + s; n >>= 5n; }
  return s;
}

export function newQueueId(now = Date.now()): string {
  const rand = BigInt('0x' + randomBytes(8).toString('hex'));
  return base32(BigInt(now), 9) + base32(rand, 11);
}

export const isQueueId = (s: string) => /^[0-9A-HJKMNP-TV-Z]{20}$/.test(s);
