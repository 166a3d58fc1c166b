// Owns the outgoing DATA transparency check (RFC 5321 §4.5.2): whether a chunk of a stored
// message goes on the wire unchanged. nodemailer's DataStream stuffs dots and turns bare CR or LF
// into CRLF by walking every byte in JavaScript (about 1 ms per 100 KB here); a stored message is
// almost always CRLF-only with no line starting with a dot, which native indexOf() calls, one per
// line, tell about ten times faster. smtp-connection.ts lets DataStream do the rewriting only for
// the chunks this says need it, so the bytes sent are exactly the same (bench/README.md
// "Large messages").

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

/**
 * Chunks of this size are checked on latin1 copies (scanFinds), in pieces of at most SCAN_PIECE octets.
 * Smaller ones keep the walk: with the optimising compiler the copy makes a 4 KB message's check ~1 µs
 * slower (tf-bench, bench/README.md twenty-first session); from ~16 KB on the string walk is level or faster.
 */
const SCAN_MIN = 16 * 1024;
const SCAN_PIECE = 16 * 1024;
/**
 * True when nodemailer's DataStream would insert bytes into `chunk`: a dot at the start of a
 * line, a bare LF, or a CR followed by anything but LF. `prev` is the byte sent before the chunk
 * (false: none yet, the start of the message). A CR that ends the chunk is judged with the next one.
 */
export function needsStuffing(chunk: Buffer, prev: number | false): boolean {
  if (chunk.length === 0) return false;
  const first = chunk[0];
  if (prev === CR ? first !== LF : first === LF) return true;
  if (first === DOT && (prev === LF || prev === false)) return true;
  return chunk.length >= SCAN_MIN ? scanFinds(chunk) : linesFind(chunk);
}

/**
 * The same answer as needsStuffing's walk, for a chunk of at least SCAN_MIN octets (the test: any): the walk's two
 * Buffer#indexOf calls a line are ~2,000 instructions each where the optimising compiler has not run
 * (their JavaScript wrapper); this walks latin1 copies of pieces of at most SCAN_PIECE octets (no large
 * string) with String#indexOf, a builtin: ~0.35 ns an octet with the optimising compiler against the
 * walk's ~0.65 (an expression over the copy was slower: ~1 ns). Consecutive pieces share one octet, so
 * every pair of neighbouring octets (all that the checks look at) is inside one piece; the chunk's first
 * octet was judged with `prev` by the caller, and a CR ending the chunk is left to the next one.
 */
function scanFinds(chunk: Buffer): boolean {
  const len = chunk.length;
  for (let from = 0; ; from += SCAN_PIECE - 1) {
    const to = Math.min(len, from + SCAN_PIECE);
    const s = chunk.toString('latin1', from, to);
    // `i + 1 < end`: charCodeAt past the end (NaN, never DOT) made the optimised scan deoptimise ("out of
    // bounds", twice a run: bench/README.md twenty-third session); a LF ending a piece is seen again, with
    // its next octet, as the next piece's first
    const end = s.length;
    for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) {
      if ((i > 0 && s.charCodeAt(i - 1) !== CR) || (i + 1 < end && s.charCodeAt(i + 1) === DOT)) return true;
    }
    for (let i = s.indexOf('\r'); i >= 0 && i + 1 < s.length; i = s.indexOf('\r', i + 1)) {
      if (s.charCodeAt(i + 1) !== LF) return true;
    }
    if (to === len) return false;
  }
}

/** The walk: one search per line end (LF), one per CR. Exported for the test that compares it with the scan. */
export function linesFind(chunk: Buffer): boolean {
  for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) {
    if ((i > 0 && chunk[i - 1] !== CR) || chunk[i + 1] === DOT) return true;
  }
  for (let i = chunk.indexOf(CR); i >= 0 && i + 1 < chunk.length; i = chunk.indexOf(CR, i + 1)) {
    if (chunk[i + 1] !== LF) return true;
  }
  return false;
}

/** The answer of the scan for any chunk (in the test that compares it with linesFind). */
export const scanFindsForTest = scanFinds;
