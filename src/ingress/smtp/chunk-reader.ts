// Owns the content checks of a message received in BDAT chunks (RFC 3030 CHUNKING). The chunk
// sizes frame the data, so there is no end-of-data marker to find and no dot-stuffing to undo: the
// bytes of a chunk are the message's bytes. Sans-IO: push() takes the bytes of the current chunk
// as they arrive (any split) and returns the body bytes to store; end() closes the message.
//
// The same content rules as DATA (data-reader.ts), so what BDAT accepts can be sent on by DATA
// (delivery/attempt.ts) without changing its meaning at the next hop:
// - a bare CR or bare LF anywhere, also across chunk boundaries, refuses the message (550 5.5.2,
//   the DATA code): relayed by DATA it could end the message early at a receiver that accepts
//   `<LF>.<LF>` (SMTP smuggling by proxy). Unlike DATA the connection stays open: the chunk
//   sizes keep the framing, so nothing after the bad byte is ever read as a command;
// - NUL bytes, lines over limits.maxLineLength, and more than limits.maxMessageSize octets in all
//   (counted while streaming, nothing buffered).
// A CR that ends a chunk is held until the next byte shows it starts a CRLF, so a CRLF is never
// split between two writes (accept.ts relies on that to find the end of the header block). A
// message whose last line has no CRLF gets one (as DATA's framing would have required).
import { reply, type Reply } from '../../message/reply.js';
import { contentReply, type ContentProblem } from './data-reader.js';

export type ChunkProblem = ContentProblem | 'bare-cr' | 'bare-lf';

const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');
/** Pieces of this size take the plain scan (#plain), as data-reader.ts's: smaller ones are a few lines, larger ones stay on the loop (no large string). */
const PLAIN_MIN = 256;
const PLAIN_MAX = 16 * 1024;
/** A CR not followed by LF (also one ending the piece), or an LF not preceded by CR (also one starting it). */
const BARE_CR_LF = /\r(?!\n)|\n(?<!\r\n)/;

export class ChunkReader {
  /** Octets received in the chunks so far, counted even once over the limit. */
  size = 0;
  #problem: ChunkProblem | null = null;
  #lineBytes = 0;
  /** The previous piece ended with a CR, not yet stored: the next byte must be its LF. */
  #heldCr = false;

  constructor(private readonly limits: { maxMessageSize: number; maxLineLength: number }) {}

  /** The first problem found; the message is refused once there is one. */
  get problem(): ChunkProblem | null { return this.#problem; }

  /** Bytes of the current chunk, in order; returns the bytes to store (none once refused). */
  push(bytes: Buffer): Buffer[] {
    this.size += bytes.length;
    if (this.#problem || bytes.length === 0) return [];
    if (this.size > this.limits.maxMessageSize) return this.#fail('too-big');
    if (!this.#heldCr && ChunkReader.plainScan && bytes.length >= PLAIN_MIN && bytes.length <= PLAIN_MAX && this.#plain(bytes)) return [bytes];
    const out: Buffer[] = [];
    let from = 0;
    if (this.#heldCr) {
      this.#heldCr = false;
      if (bytes[0] !== LF) return this.#fail('bare-cr');
      this.#endLine();
      out.push(CRLF);
      from = 1;
    }
    let i = from;
    let end = bytes.length;
    while (i < bytes.length) {
      const eol = nextLineBreak(bytes, i);
      this.#count(bytes, i, eol < 0 ? bytes.length : eol);
      if (this.#problem || eol < 0) break;
      if (bytes[eol] === LF) return this.#fail('bare-lf');
      if (eol + 1 === bytes.length) { // CR at the end of this piece: decided by the next byte
        this.#heldCr = true;
        end = eol;
        break;
      }
      if (bytes[eol + 1] !== LF) return this.#fail('bare-cr');
      this.#endLine();
      i = eol + 2;
    }
    if (this.#problem) return [];
    if (end > from) out.push(bytes.subarray(from, end));
    return out;
  }

  /** Off only in the test that compares the two ways of reading. */
  static plainScan = true;

  /**
   * The loop below looks at every line with two searches, a view and a NUL search (~6 K instructions a
   * line without the optimising compiler, as data-reader.ts's loop was). Most pieces are plain: no NUL,
   * only CRLF line ends (none split at the piece's end), no line over the limit. This finds that with a
   * few searches of one latin1 copy of the piece and, when so, leaves #lineBytes as the loop would
   * (true: the whole piece is stored as it is). Anything else (false) is left to the loop, so the
   * answer is the loop's. (No held CR here: the caller asks only without one.)
   */
  #plain(bytes: Buffer): boolean {
    const len = bytes.length;
    if (bytes.includes(0)) return false;
    const s = bytes.toString('latin1', 0, len);
    if (s.search(BARE_CR_LF) >= 0) return false; // also a CR ending the piece, an LF starting it
    const max = this.limits.maxLineLength;
    const firstLf = s.indexOf('\n');
    if (firstLf < 0) { // the piece continues one line (no CR either: it would be bare)
      if (this.#lineBytes + len > max) return false;
      this.#lineBytes += len;
      return true;
    }
    if (this.#lineBytes + firstLf + 1 > max) return false; // the line the previous piece began, with its CRLF
    // A line of more than max octets holds `max` octets without LF, so it holds a multiple of max: the
    // line around each multiple is measured (two searches each), not every line (as data-reader.ts).
    for (let q = Math.ceil((firstLf + 1) / max) * max; q < len; q += max) {
      if (s.charCodeAt(q) === LF) continue;
      const next = s.indexOf('\n', q);
      if ((next < 0 ? len : next) - s.lastIndexOf('\n', q) - 1 >= max) return false;
    }
    this.#lineBytes = len - s.lastIndexOf('\n') - 1;
    return true;
  }

  /** After the LAST chunk: the closing bytes to store (a CRLF the last line lacked), none once refused. */
  end(): Buffer[] {
    if (this.#problem) return [];
    if (this.#heldCr) return this.#fail('bare-cr');
    if (this.#lineBytes === 0) return [];
    this.#endLine();
    return this.#problem ? [] : [CRLF];
  }

  /** Adds buf[from, to) to the current line: its length and NUL bytes. */
  #count(buf: Buffer, from: number, to: number) {
    this.#lineBytes += to - from;
    if (this.#problem) return;
    if (this.#lineBytes > this.limits.maxLineLength) this.#problem = 'line-too-long';
    else if (buf.subarray(from, to).includes(0)) this.#problem = 'nul';
  }

  /** A CRLF ends the current line (it counts toward the line's length, as in data-reader.ts). */
  #endLine() {
    this.#lineBytes += 2;
    if (this.#lineBytes > this.limits.maxLineLength) this.#problem ??= 'line-too-long';
    this.#lineBytes = 0;
  }

  #fail(problem: ChunkProblem): Buffer[] {
    this.#problem ??= problem;
    return [];
  }
}

function nextLineBreak(buf: Buffer, from: number): number {
  const cr = buf.indexOf(CR, from);
  const lf = buf.indexOf(LF, from);
  if (cr < 0) return lf;
  if (lf < 0) return cr;
  return Math.min(cr, lf);
}

/** DATA's code and text for a bare CR or LF; BDAT keeps the connection open (the framing is intact). */
export const bareLineBreakReply = reply(550, '5.5.2', 'Bare CR or LF in message data is not allowed');

/** The answer to a problem found in a chunked message read with these limits. */
export function chunkReply(problem: ChunkProblem, limits: { maxLineLength: number }): Reply {
  return problem === 'bare-cr' || problem === 'bare-lf' ? bareLineBreakReply : contentReply(problem, limits);
}
