// Owns the two things Postlane needs from nodemailer's SMTPConnection that it does not expose:
// the extensions the server offered in its EHLO reply, and the SMTPUTF8 MAIL parameter for a
// message whose only non-ASCII content is in its header fields (nodemailer adds SMTPUTF8 only for
// non-ASCII envelope addresses; RFC 6531 wants it whenever the message needs it).
// And a fast path for the DATA stream: nodemailer's DataStream transform rewrites only the chunks
// that need it (dot-stuffing.ts), the others go out as they are, without its byte-by-byte walk.
// All read nodemailer internals (_supportedExtensions, _envelope, _sendCommand, _createSendStream),
// in this one place.
import type { Transform, TransformCallback } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { needsStuffing } from './dot-stuffing.js';

/** The envelope of one transaction, with `smtpUtf8`: send MAIL FROM … SMTPUTF8 (the server offers it). */
export type OutboundEnvelope = SMTPConnection.Envelope & { smtpUtf8?: boolean };

interface Internals {
  _supportedExtensions?: string[];
  _envelope?: { smtpUtf8?: boolean } | false;
  _usingSmtpUtf8?: boolean;
}
type SendCommand = (this: SMTPConnection, str: string, logStr?: string) => void;
const sendCommand = (SMTPConnection.prototype as unknown as { _sendCommand: SendCommand })._sendCommand;

/** nodemailer's DataStream: a Transform that counts bytes and remembers the last one sent. */
interface DataStream extends Transform {
  inByteCount: number;
  outByteCount: number;
  lastByte: number | false;
  _transform(chunk: unknown, encoding: BufferEncoding, done: TransformCallback): void;
}
type CreateSendStream = (this: SMTPConnection, callback: (err: Error | null, response?: string) => void) => DataStream;
const createSendStream = (SMTPConnection.prototype as unknown as { _createSendStream: CreateSendStream })._createSendStream;

export class OutboundSmtpConnection extends SMTPConnection {
  /** Called by nodemailer for every command; MAIL FROM gains SMTPUTF8 when the envelope asks and the server offers it. */
  _sendCommand(str: string, logStr?: string): void {
    const self = this as unknown as Internals;
    if (self._envelope && self._envelope.smtpUtf8 && str.startsWith('MAIL FROM:') && !/ SMTPUTF8(?: |$)/.test(str) && offers(this, 'SMTPUTF8')) {
      str += ' SMTPUTF8';
      self._usingSmtpUtf8 = true;
    }
    sendCommand.call(this, str, logStr);
  }

  /** Called by nodemailer after DATA: its DataStream, with the fast path in front of its transform. */
  _createSendStream(callback: (err: Error | null, response?: string) => void): DataStream {
    const stream = createSendStream.call(this, callback);
    withFastPath(stream);
    return stream;
  }
}

/**
 * Makes `stream` pass a chunk that needs no stuffing straight through, with the same bookkeeping
 * as DataStream's own transform (byte counts, last byte), which still handles every other chunk.
 */
export function withFastPath(stream: DataStream): void {
  const rewrite = stream._transform;
  stream._transform = function (this: DataStream, chunk, encoding, done) {
    if (!Buffer.isBuffer(chunk) || chunk.length === 0 || needsStuffing(chunk, this.lastByte)) return rewrite.call(this, chunk, encoding, done);
    this.inByteCount += chunk.length;
    this.outByteCount += chunk.length;
    this.push(chunk);
    this.lastByte = chunk[chunk.length - 1];
    done();
  };
}

/** True if the server's last EHLO reply offered `extension` (as nodemailer recorded it: SMTPUTF8, REQUIRETLS, …). */
export function offers(conn: SMTPConnection, extension: string): boolean {
  return ((conn as unknown as Internals)._supportedExtensions ?? []).includes(extension);
}
