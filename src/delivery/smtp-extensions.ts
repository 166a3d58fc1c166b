// What the server offered in its last EHLO reply, as nodemailer's SMTPConnection recorded it
// (its internal _supportedExtensions). Its own module, with no runtime import of nodemailer, so
// that the main thread's delivery code (next-hop-needs.ts, run by run-job.ts) does not load
// nodemailer's SMTP client when the transactions run in the database thread (attempt-runner.ts).
import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';

/** True if the server's last EHLO reply offered `extension` (as nodemailer recorded it: SMTPUTF8, REQUIRETLS, …). */
export function offers(conn: SMTPConnection, extension: string): boolean {
  return ((conn as unknown as { _supportedExtensions?: string[] })._supportedExtensions ?? []).includes(extension);
}
