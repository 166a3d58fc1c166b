// A submission client for tests, built on nodemailer's SMTPConnection (an implementation independent
// of Postlane's server code): STARTTLS or implicit TLS, AUTH PLAIN, one message per send(); and
// sendToMx, a remote MTA handing a report or reply to the relay's MX listener.
import SMTPConnection from 'nodemailer/lib/smtp-connection';

export interface SubmitOptions { host?: string; port: number; secure?: boolean; user: string; pass: string }

export class Submitter {
  private conn: SMTPConnection | null = null;
  constructor(private opts: SubmitOptions) {}

  private async connect(): Promise<SMTPConnection> {
    if (this.conn) return this.conn;
    const conn = new SMTPConnection({
      host: this.opts.host ?? '127.0.0.1', port: this.opts.port, secure: !!this.opts.secure,
      requireTLS: !this.opts.secure, tls: { rejectUnauthorized: false }, name: 'client.test',
      connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000,
    });
    conn.on('error', () => { /* surfaced through the callbacks */ });
    try {
      await step<void>(conn, (done) => conn.connect((err) => done(err ?? null)));
      await step<void>(conn, (done) => conn.login({ user: this.opts.user, pass: this.opts.pass }, (err) => done(err ?? null)));
    } catch (err) {
      conn.close(); // e.g. AUTH answered 454: do not leave the session open
      throw err;
    }
    this.conn = conn;
    return conn;
  }

  /** Resolves with the final server response ("250 2.0.0 Ok: queued as …") once accepted. */
  async send(from: string, to: string[], message: string | Buffer): Promise<string> {
    const conn = await this.connect();
    try {
      return await step<string>(conn, (done) => conn.send({ from, to }, message, (err, info) => done(err ?? null, info?.response)));
    } catch (err) {
      this.close();
      throw err;
    }
  }

  close() {
    const c = this.conn;
    this.conn = null;
    if (c) { try { c.quit(); } catch { /* already closed */ } c.close(); }
  }
}

/**
 * One SMTPConnection step: its callback's outcome, or an error when the connection ends first.
 * When the server goes away without an error mid-handshake (a relay killed by a crash test while
 * the greeting or STARTTLS was under way), nodemailer ends the connection and never calls the
 * callback: the step would wait forever.
 */
function step<T>(conn: SMTPConnection, run: (done: (err: Error | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onEnd = () => reject(new Error('the connection ended before the server answered'));
    conn.once('end', onEnd);
    run((err, value) => {
      conn.off('end', onEnd);
      if (err) reject(err); else resolve(value as T);
    });
  });
}

/** Sends raw bytes to a relay's MX listener as a remote MTA would (no STARTTLS); resolves with the final reply. */
export function sendToMx(port: number, from: string, to: string, raw: Buffer | string, name = 'mx.example.org'): Promise<string> {
  const c = new SMTPConnection({ host: '127.0.0.1', port, ignoreTLS: true, name });
  return new Promise<string>((resolve, reject) => {
    c.on('error', reject);
    c.connect(() => c.send({ from, to: [to] }, raw, (err, info) => { c.quit(); if (err) reject(err); else resolve(info.response); }));
  });
}

export const queueIdOf = (response: string) => /queued as ([0-9A-Z]{20})/.exec(response)?.[1] ?? null;
