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
  for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) {
    if ((i > 0 && chunk[i - 1] !== CR) || chunk[i + 1] === DOT) return true;
  }
  for (let i = chunk.indexOf(CR); i >= 0 && i + 1 < chunk.length; i = chunk.indexOf(CR, i + 1)) {
    if (chunk[i + 1] !== LF) return true;
  }
  return false;
}
