// Owns the relay's TLS material: the configured PEM files, or a self-signed certificate generated
// once into dataDir/tls on first start (so the quick start needs no openssl and no root).
// The relay makes that certificate in a thread of its own (self-signed-worker.ts): selfsigned and its
// x509/ASN.1 stack (@peculiar/*, tsyringe) then load in that thread's isolate and go when it exits.
// Imported in the main thread, they stayed loaded for the process's life (a module is never
// unloaded): 2.9 MB of the main thread's 20 MB live heap (bench/README.md, helper heap, 2026-12-05).
import fs from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

export interface TlsMaterial { cert: string; key: string; generated: boolean }

/** In this thread: loads selfsigned here for good (tests, the simulator; the relay uses createSelfSignedApart). */
export async function createSelfSigned(hostname: string): Promise<{ cert: string; key: string }> {
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 825 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: hostname }, { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/**
 * createSelfSigned in a worker thread, so that nothing it loads stays in this isolate. If the thread
 * cannot run (its file missing next to this one, e.g. a tree moved without it), made here instead.
 */
export async function createSelfSignedApart(hostname: string, onFallback?: (reason: string) => void): Promise<{ cert: string; key: string }> {
  type Reply = { ok: true; pems: { cert: string; key: string } } | { ok: false; message: string };
  let reply: Reply;
  try {
    reply = await new Promise<Reply>((resolve, reject) => {
      const worker = new Worker(new URL('./self-signed-worker.js', import.meta.url), { workerData: { hostname } });
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`self-signed certificate thread exited (${code}) without a reply`)));
    });
  } catch (err) {
    onFallback?.((err as Error)?.message ?? String(err));
    return await createSelfSigned(hostname);
  }
  if (!reply.ok) throw new Error(`could not generate a self-signed certificate: ${reply.message}`);
  return reply.pems;
}

/** `onFallback`: told why the certificate thread could not run (the certificate is then made in this thread). */
export async function loadOrCreateTls(cfg: { hostname: string; dataDir: string; tls: { cert: string | null; key: string | null } }, onFallback?: (reason: string) => void): Promise<TlsMaterial> {
  if (cfg.tls.cert && cfg.tls.key) {
    return { cert: await fs.readFile(cfg.tls.cert, 'utf8'), key: await fs.readFile(cfg.tls.key, 'utf8'), generated: false };
  }
  const dir = path.join(cfg.dataDir, 'tls');
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  try {
    return { cert: await fs.readFile(certPath, 'utf8'), key: await fs.readFile(keyPath, 'utf8'), generated: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const pems = await createSelfSignedApart(cfg.hostname, onFallback);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.writeFile(keyPath, pems.key, { mode: 0o600 });
  await fs.writeFile(certPath, pems.cert, { mode: 0o644 });
  return { ...pems, generated: true };
}
