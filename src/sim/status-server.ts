// A small read-only HTTP view of a running simulator, for users pointing a staging relay at it:
//   GET /status    → { providers: [{ name, host, port, profile }], stats: [...] }
//   GET /received  → messages received (no bodies), oldest first; ?provider=NAME&limit=N (last N, default 100, max 10000)
//   GET /refusals  → refusals sent, oldest first; same parameters
// JSON only; anything else is 404, a method other than GET 405. Bind it to loopback: it has no auth.
import http from 'node:http';
import type net from 'node:net';
import type { Simulator } from './simulator.js';

export interface StatusServer { host: string; port: number; url: string; close(): Promise<void> }

export async function startStatusServer(sim: Simulator, host: string, port: number): Promise<StatusServer> {
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body, null, 2) + '\n');
    };
    if (req.method !== 'GET') return send(405, { error: 'only GET' });
    const url = new URL(req.url ?? '/', 'http://sim');
    const provider = url.searchParams.get('provider') ?? undefined;
    const limitText = url.searchParams.get('limit') ?? '100';
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) return send(400, { error: `limit must be an integer 1-10000, not "${limitText}"` });
    if (provider !== undefined && !sim.providers.some((p) => p.name === provider)) {
      return send(404, { error: `no provider "${provider}"`, providers: sim.providers.map((p) => p.name) });
    }
    switch (url.pathname) {
      case '/status':
        return send(200, { providers: sim.providers.map((p) => ({ name: p.name, host: p.host, port: p.port, profile: p.profile.name })), stats: sim.stats() });
      case '/received':
        return send(200, { data: sim.received(provider).slice(-limit).map(({ body: _body, ...m }) => m) });
      case '/refusals':
        return send(200, { data: sim.refusals(provider).slice(-limit) });
      default:
        return send(404, { error: 'try /status, /received or /refusals' });
    }
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, () => resolve()); });
  const bound = server.address() as net.AddressInfo;
  return {
    host, port: bound.port, url: `http://${host.includes(':') ? `[${host}]` : host}:${bound.port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
