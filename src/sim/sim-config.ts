// Owns the simulator's own configuration (`postlane sim --config sim.yaml`, separate from the
// relay's postlane.yaml): which providers listen where with which profile and overrides, the
// optional HTTP status endpoint and the periodic stats line. Also the `--profile/--listen/--set`
// command-line form, turned into the same shape. Errors name the bad key.
//
//   status: 127.0.0.1:8026          # optional HTTP status endpoint (GET /status, /received, /refusals)
//   statsInterval: 30s              # optional: print a sim.stats JSON line this often
//   complaints: { send: 127.0.0.1:2500, to: fbl@relay.example }   # optional: ARF for mail to complaint@ (to: default the return path)
//   providers:
//     - name: gmail
//       profile: gmail              # a stock profile, or an object: { extends: gmail, name: corp, ... }
//       listen: 127.0.0.2:2525
//       overrides: { ratePerMinute: 30, greylistDelay: 5m, unknownRecipients: ["bounce+*@"] }
import fs from 'node:fs';
import net from 'node:net';
import YAML from 'yaml';
import { z } from 'zod';
import { parseDurationMs } from '../config/units.js';
import { RelayError } from '../errors.js';
import type { ComplaintTarget, SimProviderOptions } from './simulator.js';

export interface SimRunConfig {
  providers: SimProviderOptions[];
  status: { host: string; port: number } | null;
  statsIntervalMs: number | null;
  complaints: ComplaintTarget | null;
}

/** "127.0.0.2:2525", "[::1]:2525" → host and port (0 allowed: pick a free one). */
export function parseListen(text: string): { host: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  if (!m || net.isIP(m[1]!) === 0) return null;
  const port = Number(m[2]);
  return port <= 65535 ? { host: m[1]!, port } : null;
}

const listen = z.string().transform((v, ctx) => {
  const hp = parseListen(v);
  if (!hp) { ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not an IP:port: "${v}" (e.g. 127.0.0.2:2525)` }); return z.NEVER; }
  return hp;
});

const fileSchema = z.object({
  status: listen.nullable().default(null),
  statsInterval: z.union([z.string(), z.number()]).nullable().default(null).transform((v, ctx) => {
    if (v === null) return null;
    const ms = parseDurationMs(v);
    if (!ms) { ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not a duration: ${String(v)}` }); return z.NEVER; }
    return ms;
  }),
  complaints: z.object({ send: listen, to: z.string().min(3).optional(), from: z.string().min(3).optional() }).strict().nullable().default(null),
  providers: z.array(z.object({
    name: z.string().min(1).optional(),
    profile: z.union([z.string().min(1), z.record(z.unknown())]),
    listen,
    overrides: z.record(z.unknown()).default({}),
  }).strict()).min(1),
}).strict();

/** Read and check a sim.yaml / sim.json. */
export function loadSimConfig(file: string): SimRunConfig {
  let raw: unknown;
  try {
    raw = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RelayError('ERR_USAGE', `cannot read simulator config ${file}: ${(err as Error).message}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new RelayError('ERR_USAGE', `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  }
  const c = parsed.data;
  return {
    status: c.status,
    statsIntervalMs: c.statsInterval,
    complaints: c.complaints ? { ...c.complaints.send, ...(c.complaints.to ? { to: c.complaints.to } : {}), ...(c.complaints.from ? { from: c.complaints.from } : {}) } : null,
    providers: c.providers.map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      profile: p.profile as SimProviderOptions['profile'],
      host: p.listen.host, port: p.listen.port,
      overrides: p.overrides as SimProviderOptions['overrides'],
    })),
  };
}

/** `--profile gmail --listen 127.0.0.2:2525 … --set ratePerMinute=30` → providers (paired in order). */
export function providersFromFlags(profiles: string[], listens: string[], sets: string[]): SimProviderOptions[] {
  if (profiles.length !== listens.length) {
    throw new RelayError('ERR_USAGE', `give one --listen per --profile (${profiles.length} --profile, ${listens.length} --listen)`);
  }
  const overrides: Record<string, unknown> = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new RelayError('ERR_USAGE', `--set takes key=value, not "${s}"`);
    const value = s.slice(eq + 1);
    let parsed: unknown = value;
    try { parsed = JSON.parse(value); } catch { /* a plain string, e.g. 5m */ }
    overrides[s.slice(0, eq)] = parsed;
  }
  const names = new Map<string, number>();
  return profiles.map((profile, i) => {
    const hp = parseListen(listens[i]!);
    if (!hp) throw new RelayError('ERR_USAGE', `--listen takes IP:port (e.g. 127.0.0.2:2525), not "${listens[i]}"`);
    const n = (names.get(profile) ?? 0) + 1;
    names.set(profile, n);
    return { name: n === 1 ? profile : `${profile}-${n}`, profile, host: hp.host, port: hp.port, overrides: overrides as SimProviderOptions['overrides'] };
  });
}
