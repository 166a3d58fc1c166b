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
/**
 * Pieces of at least PLAIN_MIN octets are walked line by line on latin1 copies (#plainLines), as
 * data-reader.ts's reads: smaller ones are a few lines (the loop is cheaper than a string). A push is
 * walked in pieces of at most PLAIN_MAX octets, each cut after an LF where there is one (pieceEnd), so
 * no walk makes a string of more than 16 KB.
 */
const PLAIN_MIN = 256;
const PLAIN_MAX = 16 * 1024;

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
    const out: Buffer[] = [];
    const len = bytes.length;
    let from = 0;
    if (this.#heldCr) {
      this.#heldCr = false;
      if (bytes[0] !== LF) return this.#fail('bare-cr');
      this.#endLine();
      out.push(CRLF);
      from = 1;
    }
    let i = from;
    let end = len;
    // The line loop reads up to `stop` (the end of the piece last walked, or of the push), then the next
    // piece is walked: each octet is walked at most once and looped over at most once (as data-reader.ts).
    let stop = ChunkReader.plainScan && len - from >= PLAIN_MIN ? from : len;
    while (i < len) {
      if (i >= stop) {
        const to = pieceEnd(bytes, i, ChunkReader.pieceMax);
        stop = to;
        if (to - i < PLAIN_MIN) stop = len; // a short tail: the loop reads it
        else if ((i = this.#plainLines(bytes, i, to)) >= len) break;
        else if (i === to) continue;
      }
      const eol = nextLineBreak(bytes, i);
      this.#count(bytes, i, eol < 0 ? len : eol);
      if (this.#problem || eol < 0) break;
      if (bytes[eol] === LF) return this.#fail('bare-lf');
      if (eol + 1 === len) { // CR at the end of this piece: decided by the next byte
        this.#heldCr = true;
        end = eol;
        break;
      }
      if (bytes[eol + 1] !== LF) return this.#fail('bare-cr');
      this.#endLine();
      i = eol + 2;
    }
    if (this.#problem) return [];
    if (end > from) out.push(from === 0 && end === len ? bytes : bytes.subarray(from, end)); // the whole push: no view
    return out;
  }

  /** Off only in the test that compares the two ways of reading. */
  static plainScan = true;
  /** The largest piece walked at once: PLAIN_MAX, smaller only in that test (to cut pushes into many pieces). */
  static pieceMax = PLAIN_MAX;

  /**
   * The loop below looks at every line with two searches of the buffer, a view and a NUL search (~6 K
   * instructions a line without the optimising compiler, as data-reader.ts's loop was). Most data is plain
   * lines: this walks the lines of one latin1 copy of the piece `from`–`to` with two string searches a line
   * (the LF, the CR that must be just before it) and its length, after one search for a NUL in the piece,
   * and returns how far it holds only CRLF-ended lines (or the start of one, without a CR) and none over the
   * length limit, i.e. the bytes the loop would store as they are without finding anything, with #lineBytes
   * as the loop would leave it there. It stops at any line start it is not sure of (a bare CR or LF, a line
   * over the limit, a CR ending the piece; a NUL anywhere in the piece: at its start), leaving the loop that
   * line and the rest of the piece, so the answer is the loop's. Called without a held CR (the loop takes
   * that octet first). Replaced cpu20's expression scan (`/\r(?!\n)|\n(?<!\r\n)/`), which with the
   * optimising compiler costs ~0.8 ns an octet on its own against ~0.35 for a string search (twenty-first
   * session); its pieces are also how pushes over 16 KB, which stayed on the loop, are read now.
   */
  #plainLines(bytes: Buffer, from: number, to: number): number {
    const len = to - from;
    const s = bytes.toString('latin1', from, to);
    if (s.indexOf('\0') >= 0) return from;
    const max = this.limits.maxLineLength;
    let start = 0;
    let before = this.#lineBytes; // octets of the first line that came before the piece
    for (;;) {
      const lf = s.indexOf('\n', start);
      const cr = s.indexOf('\r', start);
      if (lf < 0) { // the piece ends inside a line
        if (cr >= 0 || before + len - start > max) break;
        this.#lineBytes = before + len - start;
        return to;
      }
      if (cr !== lf - 1 || lf === start || before + lf + 1 - start > max) break; // a bare CR or LF, or a long line
      before = 0;
      start = lf + 1;
      if (start === len) break; // the piece's end
    }
    if (start === 0) return from;
    this.#lineBytes = 0;
    return from + start;
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

/**
 * The end of the piece of buf that starts at `from`: the push's end when at most `max` octets are left,
 * else just after the last LF among the next `max` octets, or `from + max` when they hold no LF after
 * PLAIN_MIN (data-reader.ts's rule).
 */
function pieceEnd(buf: Buffer, from: number, max: number): number {
  if (buf.length - from <= max) return buf.length;
  const lf = buf.lastIndexOf(LF, from + max - 1);
  return lf >= from + PLAIN_MIN ? lf + 1 : from + max;
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
