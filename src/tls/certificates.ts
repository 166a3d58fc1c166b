// Owns the relay's TLS material: the configured PEM files, or a self-signed certificate generated
// once into dataDir/tls on first start (so the quick start needs no openssl and no root).
import fs from 'node:fs/promises';
import path from 'node:path';

export interface TlsMaterial { cert: string; key: string; generated: boolean }

export async function createSelfSigned(hostname: string): Promise<{ cert: string; key: string }> {
  const { generate } = await import('selfsigned'); // once per installation: not kept loaded
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

export async function loadOrCreateTls(cfg: { hostname: string; dataDir: string; tls: { cert: string | null; key: string | null } }): Promise<TlsMaterial> {
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
  const pems = await createSelfSigned(cfg.hostname);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.writeFile(keyPath, pems.key, { mode: 0o600 });
  await fs.writeFile(certPath, pems.cert, { mode: 0o644 });
  return { ...pems, generated: true };
}
