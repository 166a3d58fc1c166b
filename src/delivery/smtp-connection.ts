// Owns the two things Postlane needs from nodemailer's SMTPConnection that it does not expose:
// the extensions the server offered in its EHLO reply, and the SMTPUTF8 MAIL parameter for a
// message whose only non-ASCII content is in its header fields (nodemailer adds SMTPUTF8 only for
// non-ASCII envelope addresses; RFC 6531 wants it whenever the message needs it).
// Both read nodemailer internals (_supportedExtensions, _envelope, _sendCommand), in this one place.
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';

/** The envelope of one transaction, with `smtpUtf8`: send MAIL FROM … SMTPUTF8 (the server offers it). */
export type OutboundEnvelope = SMTPConnection.Envelope & { smtpUtf8?: boolean };

interface Internals {
  _supportedExtensions?: string[];
  _envelope?: { smtpUtf8?: boolean } | false;
  _usingSmtpUtf8?: boolean;
}
type SendCommand = (this: SMTPConnection, str: string, logStr?: string) => void;
const sendCommand = (SMTPConnection.prototype as unknown as { _sendCommand: SendCommand })._sendCommand;

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
}

/** True if the server's last EHLO reply offered `extension` (as nodemailer recorded it: SMTPUTF8, REQUIRETLS, …). */
export function offers(conn: SMTPConnection, extension: string): boolean {
  return ((conn as unknown as Internals)._supportedExtensions ?? []).includes(extension);
}
