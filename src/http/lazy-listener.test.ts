// The API's socket is bound at start and its application built at the first request, once, even
// when requests arrive together; a failed build answers 503 and is tried again.
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createLogger } from '../events/log.js';
import { createSelfSigned } from '../tls/certificates.js';
import { answerProbe, PROBE_PATHS } from './health.js';
import { listenLazily, type LazyApp } from './lazy-listener.js';

const logger = createLogger('silent');

function fakeApp(): LazyApp & { closed: boolean } {
  const app = {
    closed: false,
    handle: (_req: unknown, res: { end(body: string): void }) => res.end('built'),
    close: async () => { app.closed = true; },
  };
  return app as unknown as LazyApp & { closed: boolean };
}

test('the application is built at the first request, once for requests that arrive together', async () => {
  let builds = 0;
  const app = fakeApp();
  const listener = await listenLazily({ host: '127.0.0.1', port: 0, tls: null, logger, build: async () => { builds += 1; return app; } });
  try {
    assert.equal(builds, 0, 'nothing is built before a request');
    const url = `http://127.0.0.1:${listener.address.port}/healthz`;
    const bodies = await Promise.all([fetch(url), fetch(url), fetch(url)].map(async (r) => (await r).text()));
    assert.deepEqual(bodies, ['built', 'built', 'built']);
    assert.equal(await (await fetch(url)).text(), 'built');
    assert.equal(builds, 1);
  } finally {
    await listener.close();
  }
  assert.equal(app.closed, true, 'close() closes the built application');
});

test('buildAtStart: the application is built at start, before any request, and used by the first', async () => {
  let builds = 0;
  let built!: () => void;
  const done = new Promise<void>((resolve) => { built = resolve; });
  const app = fakeApp();
  const listener = await listenLazily({ host: '127.0.0.1', port: 0, tls: null, logger, buildAtStart: true,
    build: async () => { builds += 1; built(); return app; } });
  try {
    await done;
    assert.equal(builds, 1, 'built without a request');
    const url = `http://127.0.0.1:${listener.address.port}/v1/messages`;
    assert.equal(await (await fetch(url)).text(), 'built');
    assert.equal(await (await fetch(`http://127.0.0.1:${listener.address.port}/healthz`)).text(), 'built', 'probes go to the application once it is built');
    assert.equal(builds, 1);
  } finally {
    await listener.close();
  }
  assert.equal(app.closed, true);
});

test('buildAtStart: probes are answered at once while the build is under way (readiness: starting), by the application once it is built', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  let built!: () => void;
  const done = new Promise<void>((resolve) => { built = resolve; });
  const store = { nextDueAt: async () => null, checkWritable: async () => ({ writable: true, reason: null }) };
  const states: boolean[] = [];
  const listener = await listenLazily({ host: '127.0.0.1', port: 0, tls: null, logger, buildAtStart: true,
    build: async () => { await gate; built(); return fakeApp(); },
    probe: (path, state) => { states.push(state.building); return PROBE_PATHS.has(path) ? answerProbe(path, store, state.building) : null; } });
  try {
    const base = `http://127.0.0.1:${listener.address.port}`;
    const starting = await fetch(`${base}/readyz`);
    assert.equal(starting.status, 503, 'the build under way does not hold a probe: not ready yet');
    assert.deepEqual(await starting.json(), { status: 'unavailable', reason: 'the API is starting' });
    assert.deepEqual(await (await fetch(`${base}/healthz`)).json(), { status: 'ok' });
    assert.deepEqual(states, [true, true]);
    release();
    await done;
    await new Promise(setImmediate);
    assert.equal(await (await fetch(`${base}/readyz`)).text(), 'built');
  } finally {
    await listener.close();
  }
});

test('buildAtStart: a build that fails at start is tried again at the first request', async () => {
  let builds = 0;
  const app = fakeApp();
  const listener = await listenLazily({ host: '127.0.0.1', port: 0, tls: null, logger, buildAtStart: true,
    build: async () => { builds += 1; if (builds === 1) throw new Error('no'); return app; } });
  try {
    await new Promise(setImmediate); // the failed build's rejection handled (microtasks run first)
    assert.equal(builds, 1);
    assert.equal(await (await fetch(`http://127.0.0.1:${listener.address.port}/v1/messages`)).text(), 'built');
    assert.equal(builds, 2);
  } finally {
    await listener.close();
  }
});

test('a build that fails answers 503 and is tried again at the next request', async () => {
  let builds = 0;
  const listener = await listenLazily({
    host: '127.0.0.1', port: 0, tls: null, logger,
    build: async () => { builds += 1; if (builds === 1) throw new Error('no route table'); return fakeApp(); },
  });
  try {
    const url = `http://127.0.0.1:${listener.address.port}/v1/messages`;
    const failed = await fetch(url);
    assert.equal(failed.status, 503);
    assert.equal(failed.headers.get('retry-after'), '5');
    assert.equal(((await failed.json()) as { error: { code: string } }).error.code, 'unavailable');
    assert.equal(await (await fetch(url)).text(), 'built');
    assert.equal(builds, 2);
  } finally {
    await listener.close();
  }
});

test('close() before any request closes the socket without building', async () => {
  let builds = 0;
  const listener = await listenLazily({ host: '127.0.0.1', port: 0, tls: null, logger, build: async () => { builds += 1; return fakeApp(); } });
  await listener.close();
  assert.equal(builds, 0);
  await assert.rejects(fetch(`http://127.0.0.1:${listener.address.port}/`));
});

test('health probes are answered without building the application, by the application once it is built', async () => {
  let builds = 0;
  let writable = true;
  const store = { nextDueAt: async () => null, checkWritable: async () => ({ writable, reason: null }) };
  const listener = await listenLazily({
    host: '127.0.0.1', port: 0, tls: null, logger, build: async () => { builds += 1; return fakeApp(); },
    probe: (path) => PROBE_PATHS.has(path) ? answerProbe(path, store) : null,
  });
  try {
    const base = `http://127.0.0.1:${listener.address.port}`;
    const healthz = await fetch(`${base}/healthz?x=1`);
    assert.equal(healthz.status, 200);
    assert.equal(healthz.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await healthz.json(), { status: 'ok' });
    assert.deepEqual(await (await fetch(`${base}/readyz`)).json(), { status: 'ready' });
    writable = false;
    const down = await fetch(`${base}/readyz`);
    assert.equal(down.status, 503);
    assert.deepEqual(await down.json(), { status: 'unavailable', reason: 'the queue store cannot write' });
    assert.equal(builds, 0, 'probes build nothing');
    assert.equal(await (await fetch(`${base}/healthz`, { method: 'POST' })).text(), 'built', 'not a probe (as HEAD: fastify exposes no HEAD routes): built');
    assert.equal(builds, 1);
    assert.equal(await (await fetch(`${base}/healthz`)).text(), 'built', 'once built, the application answers');
    assert.equal(builds, 1);
  } finally {
    await listener.close();
  }
});

/** Connects and sends nothing: what the listener wrote before the socket closed (null: still open after 2 s). */
function firstWords(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let reply = '';
    const timer = setTimeout(() => { s.destroy(); resolve(null); }, 2000);
    s.on('data', (d) => { reply += d.toString('latin1'); });
    s.on('error', () => undefined);
    s.on('close', () => { clearTimeout(timer); resolve(reply); });
  });
}

function heldOpen(port: number, opts: { tls?: boolean } = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = opts.tls ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : net.connect(port, '127.0.0.1');
    s.once(opts.tls ? 'secureConnect' : 'connect', () => { s.write('GET /x HTTP/1.1\r\nHost: t\r\n\r\n'); });
    s.once('data', () => resolve(s));
    s.once('error', reject);
  });
}

test('connection caps: a connection over the cap is answered 503 before it is read, logged once per 10 s, released on close and on stop', async () => {
  const lines: { event?: string; refused?: number }[] = [];
  const log = pino({ level: 'info' }, new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } }));
  const refusals: string[] = [];
  let built = 0;
  const listener = await listenLazily({ host: '127.0.0.1', port: 0, tls: null, logger: log, limits: { maxConnections: 2, maxConnectionsPerIp: 2 },
    onRefused: (r) => refusals.push(r), build: async () => { built++; return fakeApp(); } });
  const { port } = listener.address;
  const a = await heldOpen(port);
  const b = await heldOpen(port);
  for (let i = 0; i < 3; i++) {
    const reply = await firstWords(port);
    assert.match(reply ?? 'still open', /^HTTP\/1\.1 503 [^]*\r\nConnection: close\r\nRetry-After: 5\r\n[^]*"unavailable"/);
  }
  assert.deepEqual(refusals, ['per-ip', 'per-ip', 'per-ip']);
  assert.equal(lines.filter((l) => l.event === 'http.connections_refused').length, 1, 'one line at once, the rest later');
  assert.equal(built, 1, 'a refused connection never reaches the application');
  a.destroy();
  await new Promise((r) => setTimeout(r, 100));
  const c = await heldOpen(port);
  // close() with connections still open (keep-alive): they go, and so do their slots.
  b.on('error', () => undefined); c.on('error', () => undefined);
  await listener.close();
  b.destroy(); c.destroy();
});

test('connection caps over HTTPS: a refused connection is closed without a handshake', async () => {
  const cert = await createSelfSigned('relay.test');
  const listener = await listenLazily({ host: '127.0.0.1', port: 0, tls: cert, logger, limits: { maxConnections: 1, maxConnectionsPerIp: 1 },
    build: async () => fakeApp() });
  try {
    const held = await heldOpen(listener.address.port, { tls: true });
    assert.equal(await firstWords(listener.address.port), '', 'closed at once, nothing written');
    held.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const again = await heldOpen(listener.address.port, { tls: true });
    again.destroy();
  } finally {
    await listener.close();
  }
});

/** An application that answers /hold only when `release` is called (a request in flight), anything else at once. */
function holdingApp(): LazyApp & { release(): void } {
  const held: { end(body: string): void }[] = [];
  return {
    handle: (req: { url?: string }, res: { end(body: string): void }) => { if (req.url === '/hold') held.push(res); else res.end('built'); },
    close: async () => undefined,
    release: () => { for (const res of held.splice(0)) res.end('released'); },
  } as unknown as LazyApp & { release(): void };
}

/** A connection from `from` that sent GET `path` (answered for /x, held for /hold); resolves once the request is surely read (a reply, or 300 ms). */
function requestFrom(port: number, host: string, from: string, path: string, opts: { tls?: boolean } = {}): Promise<{ socket: net.Socket; reply: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ port, host, localAddress: from });
    const s = opts.tls ? tls.connect({ socket: raw, rejectUnauthorized: false }) : raw;
    let reply = '';
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    const done = () => resolve({ socket: s, reply: () => reply, closed });
    s.once(opts.tls ? 'secureConnect' : 'connect', () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
      if (path === '/hold') setTimeout(done, 300);
    });
    s.on('data', (d) => { reply += d.toString('latin1'); if (path !== '/hold') done(); });
    s.once('error', reject);
  });
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('connection caps: at the total cap the oldest idle connection is closed for a newcomer; none idle: refused', async () => {
  const app = holdingApp();
  const evicted: number[] = [];
  const refusals: string[] = [];
  const host = '127.0.72.1';
  const listener = await listenLazily({ host, port: 0, tls: null, logger, limits: { maxConnections: 3, maxConnectionsPerIp: 3 },
    onRefused: (r) => refusals.push(r), onEvicted: () => evicted.push(1), build: async () => app });
  try {
    const { port } = listener.address;
    const idle = await requestFrom(port, host, '127.0.72.10', '/x');
    assert.match(idle.reply(), /^HTTP\/1\.1 200 [^]*built$/);
    const busy = [await requestFrom(port, host, '127.0.72.11', '/hold'), await requestFrom(port, host, '127.0.72.12', '/hold')];
    await settle(2100); // the idle one has been idle past MIN_IDLE_MS
    const newcomer = await requestFrom(port, host, '127.0.72.13', '/x');
    assert.match(newcomer.reply(), /^HTTP\/1\.1 200 [^]*built$/, 'admitted');
    await idle.closed;
    assert.equal(evicted.length, 1);
    for (const b of busy) assert.equal(b.socket.destroyed, false, 'a request in flight is never cut');
    // Every connection busy: a newcomer is refused, however long they have been open.
    newcomer.socket.write('GET /hold HTTP/1.1\r\nHost: t\r\n\r\n');
    await settle(2100);
    assert.match(await firstWordsFrom(port, host, '127.0.72.14') ?? 'still open', /^HTTP\/1\.1 503 /);
    assert.deepEqual(refusals, ['total']);
    assert.equal(evicted.length, 1);
    app.release();
    await eventuallyTrue(() => busy.every((b) => /released$/.test(b.reply())));
    for (const s of [...busy, newcomer]) s.socket.destroy();
  } finally {
    await listener.close();
  }
});

test('connection caps over HTTPS: the idle connection is evicted, the one with a request in flight is not', async () => {
  const cert = await createSelfSigned('relay.test');
  const app = holdingApp();
  const host = '127.0.72.1';
  const listener = await listenLazily({ host, port: 0, tls: cert, logger, limits: { maxConnections: 2, maxConnectionsPerIp: 2 }, build: async () => app });
  try {
    const { port } = listener.address;
    const busy = await requestFrom(port, host, '127.0.72.20', '/hold', { tls: true });
    const idle = await requestFrom(port, host, '127.0.72.21', '/x', { tls: true });
    await settle(2100);
    const newcomer = await requestFrom(port, host, '127.0.72.22', '/x', { tls: true });
    assert.match(newcomer.reply(), /^HTTP\/1\.1 200 [^]*built$/);
    await idle.closed;
    assert.equal(busy.socket.destroyed, false);
    app.release();
    await eventuallyTrue(() => /released$/.test(busy.reply()));
    busy.socket.destroy(); newcomer.socket.destroy();
  } finally {
    await listener.close();
  }
});

test('connection caps over IPv6 (::1): counted per /64, refused at the per-address cap', { skip: !(await hasIPv6Loopback()) && 'no IPv6 loopback' }, async () => {
  const app = holdingApp();
  const refusals: string[] = [];
  const listener = await listenLazily({ host: '::1', port: 0, tls: null, logger, limits: { maxConnections: 10, maxConnectionsPerIp: 2 },
    onRefused: (r) => refusals.push(r), build: async () => app });
  try {
    const { port } = listener.address;
    const held = [await requestFrom(port, '::1', '::1', '/x'), await requestFrom(port, '::1', '::1', '/x')];
    assert.match(await firstWordsFrom(port, '::1', '::1') ?? 'still open', /^HTTP\/1\.1 503 /);
    assert.deepEqual(refusals, ['per-ip']);
    held[0]!.socket.destroy();
    await held[0]!.closed;
    await settle(100);
    const again = await requestFrom(port, '::1', '::1', '/x');
    assert.match(again.reply(), /built$/);
    held[1]!.socket.destroy(); again.socket.destroy();
  } finally {
    await listener.close();
  }
});

function firstWordsFrom(port: number, host: string, from: string): Promise<string | null> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host, localAddress: from });
    let reply = '';
    const timer = setTimeout(() => { s.destroy(); resolve(null); }, 2000);
    s.on('data', (d) => { reply += d.toString('latin1'); });
    s.on('error', () => undefined);
    s.on('close', () => { clearTimeout(timer); resolve(reply); });
  });
}

async function eventuallyTrue(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await settle(50);
  assert.ok(check());
}

async function hasIPv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer().once('error', () => resolve(false)).listen(0, '::1', () => s.close(() => resolve(true)));
  });
}
