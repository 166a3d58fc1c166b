// A TCP port free on 127.0.0.1 now, for a listener configured before it starts (the relay's http
// port, whose URL goes into publicUrl; a private PostgreSQL server).
//
// The port is drawn at random from below the kernel's ephemeral range and checked by binding it.
// A port from listen(0) would be an ephemeral one: between our check and the relay's bind, any
// listen(0) or outgoing connection of the tests running alongside could take it (a clean-clone CI
// failed so: "cannot listen on 127.0.0.1:43343 (http.port): the address is already in use").
// Nothing picks ports below the range on its own, so only another freePort() could collide, and
// the random draw over ten thousand ports makes that rare.
import net from 'node:net';
import fs from 'node:fs';

/** The kernel's ephemeral range (Linux), or the IANA one elsewhere. */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo && hi) return [lo, hi];
  } catch { /* not Linux */ }
  return [49152, 65535];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

function osPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); });
  });
}

export async function freePort(): Promise<number> {
  const [lo] = ephemeralRange();
  const floor = 10_000;
  if (lo - floor >= 5_000) {
    for (let i = 0; i < 50; i++) {
      const port = floor + Math.floor(Math.random() * (lo - floor));
      if (await canListen(port)) return port;
    }
  }
  return osPort(); // an unusual range (or 50 taken ports in a row): the OS's choice, as before
}
