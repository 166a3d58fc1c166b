// Owns the two things Postlane needs from nodemailer's SMTPConnection that it does not expose:
// the extensions the server offered in its EHLO reply, and the SMTPUTF8 MAIL parameter for a
// message whose only non-ASCII content is in its header fields (nodemailer adds SMTPUTF8 only for
// non-ASCII envelope addresses; RFC 6531 wants it whenever the message needs it).
// And a fast path for the DATA stream: nodemailer's DataStream transform rewrites only the chunks
// that need it (dot-stuffing.ts), the others go out as they are, without its byte-by-byte walk.
// And a message given whole (a Buffer) that needs no stuffing written straight to the socket with
// its terminating dot: no DataStream, no pipe (their objects and listeners were made per message).
// And RSET written together with the next transaction's MAIL/RCPT/DATA group when the server offers
// PIPELINING (nodemailer pipelines the group itself, but its reset() waits for the reply alone).
// And a deadline on each reply: nodemailer's socketTimeout (delivery.commandTimeout) only notices a
// silent server, so a hostile MX that drips a reply a byte at a time (or "250-" lines, up to its
// 1 MiB reply limit) would hold the connection, and a delivery slot, for days. A reply begun must
// be complete within socketTimeout of the chunk that began it (docs/design/security.md, attack29).
// And whether the connection waits for the reply to the end of data with the whole message sent
// (awaitsFinalReply): an attempt at its deadline then waits for that reply a little longer rather
// than cut a transaction the server may have completed (attempt-deadline.ts; RFC 1047).
// All read nodemailer internals (_supportedExtensions, _envelope, _sendCommand, _createSendStream,
// _responseActions, _actionSMTPStream, _formatError, _onData, _remainder, _responsePartial,
// _onError), in this one place.
import type { Readable, Transform, TransformCallback } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { needsStuffing } from './dot-stuffing.js';
import { freeNow } from '../free-bytes.js';

/** The envelope of one transaction, with `smtpUtf8`: send MAIL FROM … SMTPUTF8 (the server offers it). */
export type OutboundEnvelope = SMTPConnection.Envelope & { smtpUtf8?: boolean };

interface Internals {
  _supportedExtensions?: string[];
  _envelope?: { smtpUtf8?: boolean } | false;
  _usingSmtpUtf8?: boolean;
  _socket?: import('node:net').Socket | false | null;
  _remainder: string;
  _responsePartial?: boolean;
  _destroyed?: boolean;
  _onError(err: Error, type: string, data: false, command: string): void;
  _responseActions: ((str: string) => void)[];
  _actionSMTPStream(str: string, callback: (err: Error | null, response?: string) => void): void;
  options: SMTPConnection.Options & { lmtp?: boolean };
  _formatError(message: string, type: string, response: string, command: string): SMTPConnection.SMTPError;
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

type SendArgs = Parameters<SMTPConnection['send']>;

type OnData = (this: SMTPConnection, chunk: Buffer) => void;
const onData = (SMTPConnection.prototype as unknown as { _onData: OnData })._onData;

type ActionSmtpStream = (this: SMTPConnection, str: string, callback: (err: Error | null, response?: string) => void) => void;
const actionSmtpStream = (SMTPConnection.prototype as unknown as { _actionSMTPStream: ActionSmtpStream })._actionSMTPStream;

export class OutboundSmtpConnection extends SMTPConnection {
  /** The Buffer send() was given, needing no stuffing, until its DATA stream is made (_createSendStream). */
  #whole: Buffer | null = null;
  /** Runs while a reply is partly received (a line without its end, or "250-" lines without the last). */
  #replyTimer: NodeJS.Timeout | null = null;
  #endHooked = false;
  /** The transaction's message output (made after DATA's 354) until the reply to its end of data. */
  #body: WholeMessage | DataStream | null = null;

  /**
   * True while the whole message, its final dot included, has left for the server (the socket
   * holds none of it: written to the kernel) and its reply has not come: the server may have
   * taken the message, so cutting now could make it delivered twice (RFC 1047). Asked only at an
   * attempt's deadline (attempt-deadline.ts); per message it costs one field write at each end.
   */
  awaitsFinalReply(): boolean {
    const body = this.#body;
    const socket = (this as unknown as Internals)._socket;
    if (body === null || !socket || socket.destroyed) return false;
    const sent = body instanceof WholeMessage ? body.ended : body.readableEnded;
    return sent && socket.writableLength === 0;
  }

  /** Called by nodemailer with the reply to the end of data (SMTP; LMTP has its own and no fast path). */
  _actionSMTPStream(str: string, callback: (err: Error | null, response?: string) => void): void {
    this.#body = null;
    actionSmtpStream.call(this, str, callback);
  }

  /**
   * Called by nodemailer for every chunk the server sends. A reply that arrives whole (nearly
   * always) costs two property reads; one split over chunks starts a timer at its first part, and
   * a reply still incomplete socketTimeout later fails the connection (ETIMEDOUT), as silence does.
   */
  _onData(chunk: Buffer): void {
    onData.call(this, chunk);
    const self = this as unknown as Internals;
    if (self._remainder !== '' || self._responsePartial === true) {
      if (this.#replyTimer === null && !self._destroyed) {
        const ms = self.options.socketTimeout ?? 10 * 60_000;
        this.#replyTimer = setTimeout(() => {
          this.#replyTimer = null;
          self._onError(Object.assign(new Error(`Reply not completed within ${ms} ms`), { timeoutType: 'REPLY_TIMEOUT' }), 'ETIMEDOUT', false, 'CONN');
        }, ms);
        if (!this.#endHooked) { this.#endHooked = true; this.once('end', () => this.#stopReplyTimer()); }
      }
    } else if (this.#replyTimer !== null) {
      this.#stopReplyTimer();
    }
  }

  #stopReplyTimer(): void {
    if (this.#replyTimer === null) return;
    clearTimeout(this.#replyTimer);
    this.#replyTimer = null;
  }

  override send(envelope: SendArgs[0], message: SendArgs[1], done: SendArgs[2]): void {
    this.#whole = Buffer.isBuffer(message) && message.length > 0 && !needsStuffing(message, false) ? message : null;
    this.#body = null;
    super.send(envelope, message, done);
  }

  /** Called by nodemailer for every command; MAIL FROM gains SMTPUTF8 when the envelope asks and the server offers it. */
  _sendCommand(str: string, logStr?: string): void {
    const self = this as unknown as Internals;
    if (self._envelope && self._envelope.smtpUtf8 && str.startsWith('MAIL FROM:') && !/ SMTPUTF8(?: |$)/.test(str) && offers(this, 'SMTPUTF8')) {
      str += ' SMTPUTF8';
      self._usingSmtpUtf8 = true;
    }
    sendCommand.call(this, str, logStr);
  }

  /**
   * RSET and then `send(envelope, message)`, written at once (RFC 2920 §3.1: RSET may appear
   * anywhere in a command group): a reused session costs no round trip of its own. Only when the
   * server offered PIPELINING (nodemailer then writes the transaction's group without waiting). The
   * transaction's own replies decide it, as after a separate RSET; a refused RSET matters only when
   * the transaction failed too: then its error (EPROTOCOL, as nodemailer's reset() gives) is the
   * one reported, so the session is not trusted and the message is tried on a fresh one.
   */
  resetAndSend(envelope: SMTPConnection.Envelope, message: Buffer | Readable, done: (err: SMTPConnection.SMTPError | null, info?: SMTPConnection.SentMessageInfo) => void): void {
    const self = this as unknown as Internals;
    const socket = self._socket;
    if (!socket || !offers(this, 'PIPELINING')) {
      this.reset((err) => (err ? done(err) : this.send(envelope, message, done)));
      return;
    }
    let refused: SMTPConnection.SMTPError | null = null;
    socket.cork();
    self._responseActions.push((str) => {
      if (str.charAt(0) !== '2') refused = self._formatError('Could not reset session state. response=' + str, 'EPROTOCOL', str, 'RSET');
    });
    this._sendCommand('RSET');
    this.send(envelope, message, (err, info) => done(err && refused ? refused : err, info));
    socket.uncork();
  }

  /**
   * Called by nodemailer after DATA: its DataStream, with the fast path in front of its transform.
   * The socket is corked until the next tick: a message given as a Buffer is written and ended in
   * this same turn, so the body and the final "." leave in one write instead of two.
   */
  _createSendStream(callback: (err: Error | null, response?: string) => void): DataStream {
    const self = this as unknown as Internals;
    const whole = this.#whole;
    this.#whole = null;
    if (whole && self._socket && !self.options.lmtp && !self.options.debug) {
      self._responseActions.push((str) => self._actionSMTPStream(str, callback));
      const body = new WholeMessage(self._socket, whole);
      this.#body = body;
      return body as unknown as DataStream;
    }
    const stream = createSendStream.call(this, callback);
    this.#body = self.options.lmtp ? null : stream;
    withFastPath(stream);
    const socket = (this as unknown as Internals)._socket;
    if (socket) {
      socket.cork();
      process.nextTick(() => socket.uncork());
    }
    return stream;
  }
}

/** A line end and the final dot, by the message's last byte (as DataStream's _flush). */
const END_AFTER_LF = Buffer.from('.\r\n');
const END_AFTER_CR = Buffer.from('\n.\r\n');
const END_OTHER = Buffer.from('\r\n.\r\n');

/**
 * What nodemailer's send() writes a Buffer message to in place of its DataStream (write, end, the
 * byte count): the message, which needs no stuffing, and its end of data in one corked write.
 */
class WholeMessage {
  inByteCount = 0;
  outByteCount = 0;
  /** end() wrote the message and its end of data. */
  ended = false;
  constructor(private readonly socket: import('node:net').Socket, private readonly message: Buffer) {}
  write(): boolean { return true; }
  end(): void {
    const m = this.message;
    const last = m[m.length - 1];
    const tail = last === 0x0a ? END_AFTER_LF : last === 0x0d ? END_AFTER_CR : END_OTHER;
    this.inByteCount = m.length;
    this.outByteCount = m.length + tail.length;
    this.ended = true;
    this.socket.cork();
    this.socket.write(m);
    // written in order: the message is out too. A small message gets no callback (no closure per message: workload i)
    if (m.byteLength >= RELEASE_MIN) this.socket.write(tail, () => releaseBytes(m));
    else this.socket.write(tail);
    this.socket.uncork();
  }
}

/** Below this a message's bytes are left to the GC: the release costs more than it saves. */
const RELEASE_MIN = 16 * 1024;

/**
 * Frees the bytes of a message the socket has written, now rather than at a collection. The
 * Buffer was alive across the envelope's round trip, so its wrapper has often been promoted by
 * then, and its malloc'd bytes would wait, dead, for a mark-compact (helper gc10, tenth session:
 * ~10 MB of such external memory at the peak with fewer mark-compacts). Detaching it through a
 * closed port (freeNow) gives the bytes back to malloc before this returns; the clone it used to
 * be moved into waited for the next scavenge (nineteenth session). Only a Buffer that owns its
 * whole ArrayBuffer (the store's read, not a slice of a shared pool): its one user, the attempt
 * that read it for this transaction, never looks at it again (a retry reads the message anew).
 * Called from the write callback of the message's last chunk: the socket is done with its bytes.
 */
export function releaseBytes(buf: Buffer): void {
  const ab = buf.buffer;
  if (buf.byteLength < RELEASE_MIN || buf.byteOffset !== 0 || buf.byteLength !== ab.byteLength) return;
  freeNow(ab as ArrayBuffer); // false: not detachable (e.g. a wasm or externally owned buffer): the GC frees it as before
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
