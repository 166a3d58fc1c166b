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
 * True when nodemailer's DataStream would insert bytes into `chunk`: a dot at the start of a
 * line, a bare LF, or a CR followed by anything but LF. `prev` is the byte sent before the chunk
 * (false: none yet, the start of the message). A CR that ends the chunk is judged with the next one.
 */
export function needsStuffing(chunk: Buffer, prev: number | false): boolean {
  if (chunk.length === 0) return false;
  const first = chunk[0];
  if (prev === CR ? first !== LF : first === LF) return true;
  if (first === DOT && (prev === LF || prev === false)) return true;
  return linesFind(chunk);
}

/**
 * The walk: one search per line end (LF), one per CR, on the bytes themselves, whatever the chunk's size. From
 * the twenty-first to the thirtieth session chunks of 16 KB or more were checked on latin1 copies with
 * String#indexOf (~0.35 ns an octet against ~0.65 here, timed alone), but those copies were 100 KB of
 * young-generation strings a 100 KB message, which with the DATA reader's made workload (ii)'s scavenges a
 * message ~2.5× (i)'s and its mark-compacts 4.8× (bench/README.md, thirty-first session).
 */
export function linesFind(chunk: Buffer): boolean {
  for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) {
    if ((i > 0 && chunk[i - 1] !== CR) || chunk[i + 1] === DOT) return true;
  }
  for (let i = chunk.indexOf(CR); i >= 0 && i + 1 < chunk.length; i = chunk.indexOf(CR, i + 1)) {
    if (chunk[i + 1] !== LF) return true;
  }
  return false;
}
