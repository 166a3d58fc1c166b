// A scripted hostile SMTP server for the attack tests of the twenty-ninth session: each connection
// runs `script`, which gets the socket and the client's lines (one await per line); TLS upgrades
// on demand with a self-signed certificate. Counts connections and what the client sent.
import net from 'node:net';
import tls from 'node:tls';
import { createSelfSigned } from '../../src/tls/certificates.js';

export interface HostileSession {
  socket: net.Socket;
  /** The client's next line (without CRLF); null when it closed. */
  line(): Promise<string | null>;
  write(data: string | Buffer): void;
  /** After STARTTLS's "220" was written: the socket becomes a TLS server socket. */
  upgrade(): Promise<void>;
}

export interface HostileMx {
  host: string;
  port: number;
  connections: number;
  /** Every line clients sent, in order. */
  received: string[];
  close(): Promise<void>;
}

let certificate: Promise<{ cert: string; key: string }> | undefined;

/** `port`: 0 (any) unless several MX hosts must share one (delivery.port), each on its own address. */
export async function startHostileMx(host: string, script: (s: HostileSession) => Promise<void>, port = 0): Promise<HostileMx> {
  await (certificate ??= createSelfSigned('hostile.test')); // made now: its key generation must not eat a session's deadline
  const sockets = new Set<net.Socket>();
  const state: HostileMx = { host, port: 0, connections: 0, received: [], close: async () => undefined };
  const server = net.createServer((raw) => {
    state.connections++;
    let socket: net.Socket = raw;
    sockets.add(raw);
    let buffer = '';
    const lines: string[] = [];
    let wake: (() => void) | null = null;
    let closed = false;
    const onData = (d: Buffer) => {
      buffer += d.toString('latin1');
      let i;
      while ((i = buffer.indexOf('\r\n')) >= 0) { const l = buffer.slice(0, i); state.received.push(l); lines.push(l); buffer = buffer.slice(i + 2); }
      wake?.();
    };
    const onEnd = () => { closed = true; wake?.(); };
    socket.on('data', onData);
    socket.on('close', onEnd);
    socket.on('error', () => undefined);
    const session: HostileSession = {
      get socket() { return socket; },
      async line() {
        while (lines.length === 0 && !closed) await new Promise<void>((resolve) => { wake = resolve; });
        wake = null;
        return lines.shift() ?? null;
      },
      write(data) { if (!socket.destroyed) socket.write(data); },
      async upgrade() {
        socket.off('data', onData);
        socket.pause(); // the ClientHello waits in the socket, not dropped by a flowing socket without a reader
        const { cert, key } = await (certificate ??= createSelfSigned('hostile.test'));
        const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: tls.createSecureContext({ cert, key }) });
        secure.on('error', () => undefined);
        secure.on('data', onData);
        secure.on('close', onEnd);
        sockets.add(secure);
        socket = secure;
        await new Promise<void>((resolve) => secure.once('secure', () => resolve()));
      },
    };
    script(session).catch(() => undefined);
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  state.port = (server.address() as net.AddressInfo).port;
  state.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return state;
}

/** The usual exchange up to a point: greeting, then EHLO answered with `extensions`. */
export async function greetAndEhlo(s: HostileSession, extensions = ['PIPELINING', 'SIZE 10240000', '8BITMIME']): Promise<boolean> {
  s.write('220 hostile.test ESMTP\r\n');
  const ehlo = await s.line();
  if (ehlo === null) return false;
  const lines = ['hostile.test', ...extensions];
  s.write(lines.map((l, i) => (i === lines.length - 1 ? '250 ' : '250-') + l).join('\r\n') + '\r\n');
  return true;
}
