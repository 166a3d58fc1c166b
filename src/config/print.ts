// Owns how the effective configuration is shown to an operator (`postlane config`): durations and
// sizes back in the units people write ("5d", "25MB", not milliseconds and bytes), secrets
// hidden, as YAML that could be pasted back into a config file (or as JSON).
import YAML from 'yaml';
import { z } from 'zod';
import { configSchema, unitOfSchema, type Config } from './schema.js';
import { formatDuration, formatSize } from './units.js';
import { effectiveRules } from '../delivery/shaping-rules.js';

// secret31: metrics.token was printed as is.
const SECRET_KEYS = new Set(['pass', 'password', 'secret', 'token']);

/**
 * A connection URL with its password hidden: the userinfo runs to the last '@' of the authority
 * (WHATWG URL, as pg reads it: "u:p@ss@host" is user u, password p@ss), the password may be empty
 * of a user (":pw@host"), and pg also takes password and sslpassword as query parameters.
 * secret31: "postgres://:pw@h", the tail of "u:p@ss@h" and "?password=pw" were printed.
 */
export function redactUrl(url: string): string {
  const hidden = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, (_, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon < 0 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:[redacted]@`;
  });
  return hidden.replace(/([?&][^=&#]*pass[^=&#]*=)[^&#]*/gi, '$1[redacted]');
}

/** The schema under defaults, optionals, nullables and descriptions. */
function unwrap(schema: z.ZodTypeAny): z.ZodTypeAny {
  if (schema instanceof z.ZodDefault) return unwrap(schema._def.innerType);
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) return unwrap(schema.unwrap());
  return schema;
}

/** A schema and the branches of a union, each unwrapped. */
const branches = (schema: z.ZodTypeAny): z.ZodTypeAny[] => {
  const s = unwrap(schema);
  return s instanceof z.ZodUnion ? (s.options as z.ZodTypeAny[]).flatMap(branches) : [s];
};

function render(schema: z.ZodTypeAny | undefined, value: unknown, key: string): unknown {
  if (typeof value === 'string' && SECRET_KEYS.has(key)) return '[redacted]';
  if (key === 'url' && typeof value === 'string') return redactUrl(value);
  const options = schema ? branches(schema) : [];
  if (typeof value === 'number') {
    const unit = options.map((o) => unitOfSchema.get(o)).find(Boolean);
    if (unit === 'duration') return formatDuration(value);
    if (unit === 'size') return formatSize(value);
    return value;
  }
  if (value && typeof value === 'object' && options.some((o) => unitOfSchema.get(o) === 'hostPort') && !options.some((o) => o instanceof z.ZodObject)) {
    const { host, port } = value as { host: string; port: number };
    return `${host.includes(':') ? `[${host}]` : host}:${port}`; // a DNS server: written "host:port"
  }
  if (Array.isArray(value)) {
    const element = options.find((o): o is z.ZodArray<z.ZodTypeAny> => o instanceof z.ZodArray)?.element;
    return value.map((v) => render(element, v, ''));
  }
  if (value && typeof value === 'object') {
    const shapes = options.filter((o): o is z.AnyZodObject => o instanceof z.ZodObject).map((o) => o.shape as z.ZodRawShape);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(shapes.find((s) => k in s)?.[k], v, k)]));
  }
  return value;
}

/** The effective configuration as an operator would write it: units back, secrets hidden. */
export const presentConfig = (cfg: Readonly<Config>): Record<string, unknown> => render(configSchema, cfg, '') as Record<string, unknown>;

export function formatConfig(cfg: Readonly<Config>, format: 'yaml' | 'json', source: string): string {
  const shown = presentConfig(cfg);
  if (format === 'json') return JSON.stringify(shown, null, 2) + '\n';
  return `# effective configuration: defaults <- ${source} <- POSTLANE_* environment; secrets hidden\n${YAML.stringify(shown)}${formatShapingRules(cfg)}`;
}

/**
 * The effective per-provider shaping rules (stock ← shaping.providers ← shaping.overrides for the
 * default pool and any account), as YAML comments: shown, but not part of what loads back.
 */
export function formatShapingRules(cfg: Readonly<Config>): string {
  if (!cfg.shaping.enabled) return '# shaping is off: per recipient domain limits only (delivery.maxConnectionsPerDestination)\n';
  const fmt = (v: number | null) => (v === null ? '-' : String(v));
  const rows = effectiveRules(cfg.shaping).map((r) =>
    `#   ${r.provider.padEnd(12)} ${fmt(r.maxConnections).padStart(5)} ${fmt(r.messagesPerConnection).padStart(6)} ${fmt(r.perSecond).padStart(6)} ${fmt(r.perMinute).padStart(7)} ${fmt(r.perHour).padStart(8)}`);
  return ['# effective shaping rules per provider and egress source (stock <- shaping.providers <- shaping.overrides; default pool):',
    '#   provider     conns msg/cn  per-s   per-m    per-h', ...rows].join('\n') + '\n';
}
