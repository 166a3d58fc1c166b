// Owns the MX listener's tighter limits on a message's header block. Mail arriving on the MX is
// verified at local delivery by mailauth (delivery/inbound-auth.ts), whose header parser costs the
// square of a block's folding: each continuation line copies the lines gathered so far, or shifts
// every field after it. A 128 KB header of one field folded 32,000 times took 17 s of the relay's
// one event loop, a 1 MB one of alternating folded fields far longer; any sender on the internet
// may send one. So the MX takes a header block of at most 100 KiB (Postfix's header_size_limit)
// with at most 1,000 continuation lines in all: a bounce, complaint or reply has a few dozen.
// Submission keeps the 1 MiB block of accept.ts: its signer parses in linear time (dkim-sign.ts).
import { reply, type Reply } from '../message/reply.js';

export const MAX_MX_HEADER_BYTES = 100 * 1024;
export const MAX_MX_FOLDED_LINES = 1000;

const tooLarge = reply(554, '5.6.0', 'Header block too large');
const tooFolded = reply(554, '5.6.0', 'Header block folded over too many lines');

/** The refusal of an MX message's header block (the bytes before the empty line), or null. */
export function mxHeaderRefusal(header: Buffer): Reply | null {
  if (header.length > MAX_MX_HEADER_BYTES) return tooLarge;
  let folded = 0;
  for (let lf = header.indexOf(0x0a); lf >= 0 && lf < header.length - 1; lf = header.indexOf(0x0a, lf + 1)) {
    const next = header[lf + 1];
    if ((next === 0x20 || next === 0x09) && ++folded > MAX_MX_FOLDED_LINES) return tooFolded;
  }
  return null;
}
