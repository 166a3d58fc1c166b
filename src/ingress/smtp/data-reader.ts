// Owns DATA framing (RFC 5321 §4.1.1.4, §4.5.2): finds the CRLF.CRLF end, removes dot-stuffing,
// counts the size while streaming, and enforces the content limits. Sans-IO: push() takes the
// bytes that arrived and returns the body bytes to store.
//
// SMTP smuggling defence: a bare LF or a bare CR anywhere in the data is a framing violation
// (result 'invalid'): the caller answers 550 5.5.2 and closes the connection, never looking for
// another end of data (as chasquid does). So `\n.\n`, `\r.\r`, `\n.\r\n` and `\r\n.\n` can never
// end a message, nor start a second one.
//
// Content problems (too big, NUL byte, line too long) do not stop framing: the rest of the data is
// read and discarded up to CRLF.CRLF, then the message is refused and the session goes on. When
// there are several, the answer does not depend on where the packets were cut: too-big first,
// then line-too-long, then NUL (each is tracked to the end; the first one seen used to win).
//
// Line length: RFC 5322 §2.1.1 and RFC 5321 §4.5.3.1.6 allow 998 octets plus CRLF (the dot added
// for transparency not counted). Longer lines are refused, not rewrapped: receivers may refuse or
// break them, and rewrapping would change a message its sender may already have DKIM-signed.
// Counted while streaming (limits.maxLineLength, default 1000 with the CRLF); nothing is buffered.
import { reply, type Reply } from '../../message/reply.js';

export type ContentProblem = 'too-big' | 'nul' | 'line-too-long';

export type PushResult =
  /** Need more bytes; `data` is body output (already unstuffed) to pass on, possibly empty. */
  | { kind: 'more'; data: Buffer[] }
  /** CRLF.CRLF seen. `rest` holds the bytes after it (pipelined commands). */
  | { kind: 'end'; data: Buffer[]; rest: Buffer; problem: ContentProblem | null }
  /** Bare CR or LF: the connection must be closed. */
  | { kind: 'invalid'; reason: 'bare-lf' | 'bare-cr' };

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const EMPTY = Buffer.alloc(0);
/**
 * Reads of at least PLAIN_MIN octets are walked line by line on latin1 copies (#plainLines) before the
 * line loop reads what the walk is not sure of: smaller ones are a few lines (the loop is cheaper than a
 * string). A read is walked in pieces of at most PLAIN_MAX octets, each cut after an LF where there is one
 * (#pieceEnd), so no walk makes a string of more than 16 KB.
 */
const PLAIN_MIN = 256;
const PLAIN_MAX = 16 * 1024;

export class DataReader {
  /** Body bytes produced (after unstuffing), counted even once over the limit. */
  size = 0;
  #longLine = false;
  #nul = false;
  #atLineStart = true;
  #lineBytes = 0;
  #carry: Buffer = EMPTY;

  constructor(private readonly limits: { maxMessageSize: number; maxLineLength: number }) {}

  get problem(): ContentProblem | null {
    if (this.size > this.limits.maxMessageSize) return 'too-big';
    return this.#longLine ? 'line-too-long' : this.#nul ? 'nul' : null;
  }

  push(chunk: Buffer): PushResult {
    const buf = this.#carry.length ? Buffer.concat([this.#carry, chunk]) : chunk;
    this.#carry = EMPTY;
    const data: Buffer[] = [];
    let segStart = 0;
    let i = 0;
    // The line loop reads up to `stop` (the end of the piece last scanned, or of the chunk), then the
    // next piece is scanned: each octet is scanned at most once and looped over at most once.
    let stop = DataReader.plainScan && buf.length >= PLAIN_MIN ? 0 : buf.length;
    while (i < buf.length) {
      if (i >= stop) {
        const to = pieceEnd(buf, i, DataReader.pieceMax);
        stop = to;
        if (to - i < PLAIN_MIN) stop = buf.length; // a short tail: the loop reads it
        else if ((i = this.#plainLines(buf, i, to)) >= buf.length) break;
        else if (i === to) continue;
      }
      if (this.#atLineStart && buf[i] === DOT) {
        if (buf.length - i < 3) { this.#carry = buf.subarray(i); break; }
        if (buf[i + 1] === CR && buf[i + 2] === LF) {
          this.#emit(data, buf.subarray(segStart, i));
          return { kind: 'end', data, rest: buf.subarray(i + 3), problem: this.problem };
        }
        this.#emit(data, buf.subarray(segStart, i)); // drop the stuffed dot (not part of the line)
        segStart = i + 1;
        i++;
      }
      this.#atLineStart = false;
      const eol = nextLineBreak(buf, i);
      if (eol < 0) {
        this.#countLine(buf.length - i);
        i = buf.length;
        break;
      }
      if (buf[eol] === LF) return { kind: 'invalid', reason: 'bare-lf' };
      if (eol + 1 >= buf.length) { // a CR at the end of the chunk: decide when the next byte comes
        this.#countLine(eol - i);
        this.#emit(data, buf.subarray(segStart, eol));
        this.#carry = buf.subarray(eol);
        return { kind: 'more', data };
      }
      if (buf[eol + 1] !== LF) return { kind: 'invalid', reason: 'bare-cr' };
      this.#countLine(eol + 2 - i);
      this.#atLineStart = true;
      this.#lineBytes = 0;
      i = eol + 2;
    }
    this.#emit(data, buf.subarray(segStart, i));
    return { kind: 'more', data };
  }

  /** Off only in the test that compares the two ways of reading. */
  static plainScan = true;
  /** The largest piece scanned at once: PLAIN_MAX, smaller only in that test (to cut chunks into many pieces). */
  static pieceMax = PLAIN_MAX;

  /**
   * The loop below looks at every line with two searches of the buffer and a dozen steps (~6 K
   * instructions a line without the optimising compiler: ~360 K for a 4 KB message). Most data is plain
   * lines: this walks the lines of one latin1 copy of the piece `from`–`to` with two string searches a
   * line (the LF, the CR that must be just before it), its length and its first octet, and returns how far
   * it holds only CRLF-ended lines (or the start of one), none over the length limit and none starting
   * with a dot (at a line start), i.e. the bytes the loop would pass on as they are without finding
   * anything, with #atLineStart and #lineBytes as the loop would leave them there. It stops at any line
   * start it is not sure of (a dot line, a bare CR or LF, a line over the limit, a CR ending the piece),
   * leaving the loop that line and the rest of the piece, so the answer is the loop's.
   * With the optimising compiler a string search is ~0.35 ns an octet; the reader with this walk
   * ~0.5 ns, the line loop ~0.7, and data19's expression for a bare CR or LF (`s.search`, which this
   * replaced in the twenty-first session) ~0.8 ns on its own (bench/README.md, twenty-first session).
   * Without it, a string search is a builtin, not Buffer#indexOf's JavaScript wrapper (~2,000
   * instructions a call).
   */
  #plainLines(buf: Buffer, from: number, to: number): number {
    if (this.#atLineStart && buf[from] === DOT) return from;
    const len = to - from;
    const s = buf.toString('latin1', from, to);
    const max = this.limits.maxLineLength;
    let start = 0;
    let before = this.#lineBytes; // octets of the first line that came before the piece
    for (;;) {
      const lf = s.indexOf('\n', start);
      const cr = s.indexOf('\r', start);
      if (lf < 0) { // the piece ends inside a line
        if (cr >= 0 || before + len - start > max) break;
        this.#lineBytes = before + len - start;
        this.#atLineStart = false;
        return to;
      }
      if (cr !== lf - 1 || lf === start || before + lf + 1 - start > max) break; // a bare CR or LF, or a long line
      before = 0;
      start = lf + 1;
      if (start === len || s.charCodeAt(start) === DOT) break; // the piece's end, or a dot line for the loop
    }
    if (start === 0) return from;
    this.#atLineStart = true;
    this.#lineBytes = 0;
    return from + start;
  }

  /** Adds `bytes` to the current line's length. */
  #countLine(bytes: number) {
    this.#lineBytes += bytes;
    if (this.#lineBytes > this.limits.maxLineLength) this.#longLine = true;
  }

  /** Every body byte passes here once: NUL is searched per part (one native call), not per line. */
  #emit(out: Buffer[], part: Buffer) {
    if (part.length === 0) return;
    this.size += part.length;
    if (!this.#nul && part.includes(0)) this.#nul = true;
    if (this.problem === null) out.push(part);
  }
}

/**
 * The end of the piece of buf that starts at `from`: the chunk's end when at most `max` octets are
 * left, else just after the last LF among the next `max` octets (so no piece ends inside a CRLF,
 * which the scan would leave to the loop), or `from + max` when they hold no LF after PLAIN_MIN.
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

/** The answers to DATA framing violations (which close the connection) and content problems. */
export const dataReplies = {
  invalid: reply(550, '5.5.2', 'Bare CR or LF in message data is not allowed', true),
  'too-big': reply(552, '5.3.4', 'Message too big'),
  nul: reply(550, '5.6.0', 'NUL bytes in message data are not allowed'),
} as const;

/** The answer to a content problem found by a reader with these limits. */
export function contentReply(problem: ContentProblem, limits: { maxLineLength: number }): Reply {
  if (problem !== 'line-too-long') return dataReplies[problem];
  return reply(550, '5.6.0', `Message has a line longer than ${limits.maxLineLength - 2} octets; encode long lines (quoted-printable or base64)`);
}
