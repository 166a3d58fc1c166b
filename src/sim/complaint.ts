// Owns the one thing an SMTP receiver cannot do in the dialogue: a spam complaint. When a message
// to a `complaint@` magic address is accepted and the simulator was given a complaint target, it
// mails back a feedback report (ARF, RFC 5965) as a mailbox provider's feedback loop does: a
// multipart/report with the human part, the message/feedback-report fields (Feedback-Type abuse,
// Original-Mail-From = the envelope sender, which for Postlane is the VERP return path) and the
// complained-about message itself. Sent with nodemailer's SMTP client to the target (the relay's
// MX listener); by default to the original MAIL FROM.
import crypto from 'node:crypto';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';

export interface ComplaintTarget {
  host: string;
  port: number;
  /** RCPT TO of the report; default: the complained-about message's MAIL FROM. */
  to?: string;
  /** MAIL FROM and From: of the report; default feedback@<provider hostname>. */
  from?: string;
}

export interface ArfInput {
  reporterHost: string;
  from: string;
  to: string;
  clientIp: string;
  mailFrom: string;
  rcpt: string;
  receivedAt: number;
  original: Buffer;
}

/** The feedback report as CRLF bytes. */
export function buildArf(a: ArfInput): Buffer {
  const boundary = `----=_arf_${crypto.randomBytes(8).toString('hex')}`;
  const date = new Date(a.receivedAt).toUTCString().replace('GMT', '+0000');
  const subject = /^Subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(a.original.subarray(0, 64 * 1024).toString('latin1'))?.[1]?.replace(/\r?\n[ \t]+/g, ' ') ?? '';
  const head = [
    `From: ${a.from}`,
    `To: ${a.to}`,
    `Subject: FW: ${subject}`.trimEnd(),
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${crypto.randomUUID()}.arf@${a.reporterHost}>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=feedback-report; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `This is an email abuse report for an email message received from IP ${a.clientIp} on ${date}.`,
    '',
    `--${boundary}`,
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    'User-Agent: Postlane-Simulator/1.0',
    'Version: 1',
    `Original-Mail-From: <${a.mailFrom}>`,
    `Original-Rcpt-To: <${a.rcpt}>`,
    `Arrival-Date: ${date}`,
    `Source-IP: ${a.clientIp}`,
    '',
    `--${boundary}`,
    'Content-Type: message/rfc822',
    'Content-Disposition: inline',
    '',
    '',
  ].join('\r\n');
  const original = a.original.toString('latin1').replace(/\r?\n$/, '');
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(original, 'latin1'), Buffer.from(`\r\n\r\n--${boundary}--\r\n`, 'latin1')]);
}

/** Deliver one report; resolves with the server's final reply, rejects with its error. */
export function sendReport(target: ComplaintTarget, from: string, to: string, raw: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = new SMTPConnection({ host: target.host, port: target.port, opportunisticTLS: true, tls: { rejectUnauthorized: false }, name: 'feedback.sim.test', connectionTimeout: 10_000, socketTimeout: 30_000 });
    c.on('error', reject);
    c.connect(() => c.send({ from, to: [to] }, raw, (err, info) => {
      c.quit();
      if (err) reject(err); else resolve(info.response);
    }));
  });
}
