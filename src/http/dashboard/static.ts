// Owns serving the built dashboard (dashboard/dist, built by Vite; dashboard contract): /assets/*
// with an immutable cache (Vite names them by content hash), the few top-level files of dist
// (favicon and the like), and index.html for every other GET that accepts text/html and is not
// under /v1, so the app's client-side routes load. Every answer carries a strict CSP (no inline
// script or style), X-Frame-Options: DENY and Referrer-Policy: no-referrer. Without a build,
// those pages answer a JSON 404 saying so. It is reached from the server's not-found handler, so
// the registered routes (and the OpenAPI document) stay the API's.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** dashboard/dist of this installation (dist/src/http/dashboard/ → the package root). */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../../../dashboard/dist/', import.meta.url));

export const DASHBOARD_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'", "connect-src 'self'",
  "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.ico': 'image/x-icon', '.webp': 'image/webp', '.woff2': 'font/woff2',
  '.woff': 'font/woff', '.txt': 'text/plain; charset=utf-8', '.webmanifest': 'application/manifest+json',
};

/** Path segments of safe names only: no dot-segments, no encoded characters, no backslashes. */
const ASSET_PATH = /^\/assets\/((?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*)$/;
const TOP_FILE = /^\/([A-Za-z0-9_-][A-Za-z0-9._-]*\.[A-Za-z0-9]+)$/;

export type DashboardAnswer = 'served' | 'not_built' | 'not_found';

/** Answers a GET the API has no route for from the built dashboard, if it is one of its pages or files. */
export async function serveDashboard(req: FastifyRequest, res: FastifyReply, dir: string): Promise<DashboardAnswer> {
  if (req.method !== 'GET') return 'not_found';
  const urlPath = req.url.split('?')[0]!;
  if (urlPath === '/v1' || urlPath.startsWith('/v1/')) return 'not_found';
  const asset = ASSET_PATH.exec(urlPath);
  if (asset) return sendFile(res, path.join(dir, 'assets', asset[1]!), 'public, max-age=31536000, immutable');
  const top = TOP_FILE.exec(urlPath);
  if (top && top[1] !== 'index.html' && (await sendFile(res, path.join(dir, top[1]!), 'public, max-age=3600')) === 'served') return 'served';
  if (!acceptsHtml(req)) return 'not_found';
  const index = await sendFile(res, path.join(dir, 'index.html'), 'no-cache');
  return index === 'served' ? 'served' : 'not_built';
}

const acceptsHtml = (req: FastifyRequest) => (req.headers.accept ?? '').split(',').some((t) => /^\s*text\/html\b/i.test(t));

async function sendFile(res: FastifyReply, file: string, cacheControl: string): Promise<DashboardAnswer> {
  const stat = await fs.promises.stat(file).catch(() => null);
  if (!stat?.isFile()) return 'not_found';
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  res.code(200).headers({
    'content-type': type, 'content-length': String(stat.size), 'cache-control': cacheControl, ...SECURITY_HEADERS,
  }).send(fs.createReadStream(file));
  return 'served';
}

export const SECURITY_HEADERS = {
  'content-security-policy': DASHBOARD_CSP, 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff',
};
