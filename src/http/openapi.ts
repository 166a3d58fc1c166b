// Owns the OpenAPI 3.1 document served at /openapi.json. It is generated from the route table
// (route.ts) and the zod schemas the routes validate with (zod's JSON Schema 2020-12 output, which
// OpenAPI 3.1 uses as is): named schemas (.meta({ id })) become components, every route a path.
import { z } from 'zod/v4';
import type { ApiRoute, ResponseDoc } from './route.js';

/** A route outside the API key routes (health, this document, the dashboard's login). */
export interface SystemRoute {
  method: 'GET' | 'POST';
  url: string;
  summary: string;
  contentType: string;
  /** 'system' if absent. */
  tag?: string;
  body?: z.ZodType;
  /** Default: 200 OK of contentType. */
  responses?: Record<number, ResponseDoc>;
  /** 'cookie': the dashboard session cookie; none otherwise. */
  security?: 'cookie';
}

type Json = Record<string, unknown>;

const toOpenApiPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');

export function buildOpenApi(routes: readonly ApiRoute[], system: readonly SystemRoute[], info: { version: string; serverUrl?: string }): Json {
  const components: Record<string, unknown> = {};
  const schema = (s: z.ZodType, io: 'input' | 'output') => convert(s, io, components);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const p = (paths[toOpenApiPath(r.url)] ??= {});
    p[r.method.toLowerCase()] = {
      operationId: operationId(r.method, r.url), summary: r.summary, tags: [r.tag],
      security: [{ bearerAuth: [] }, { cookieAuth: [] }],
      'x-scope': r.scope,
      parameters: [
        ...objectParams(r.params, 'path', schema),
        ...objectParams(r.query, 'query', schema),
        ...(r.idempotent ? [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 }, description: 'makes a retry return the first answer instead of sending again' }] : []),
      ],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(r.body, 'input') } } } } : {}),
      responses: Object.fromEntries(Object.entries(r.responses).map(([status, d]) => [status, {
        description: d.description, ...(d.schema ? { content: { 'application/json': { schema: schema(d.schema, 'output') } } } : {}),
      }])),
    };
  }
  for (const s of system) {
    (paths[s.url] ??= {})[s.method.toLowerCase()] = {
      operationId: operationId(s.method, s.url), summary: s.summary, tags: [s.tag ?? 'system'], security: s.security ? [{ cookieAuth: [] }] : [],
      ...(s.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(s.body, 'input') } } } } : {}),
      responses: s.responses
        ? Object.fromEntries(Object.entries(s.responses).map(([status, d]) => [status, {
          description: d.description, ...(d.schema ? { content: { [s.contentType]: { schema: schema(d.schema, 'output') } } } : {}),
        }]))
        : { 200: { description: 'OK', content: { [s.contentType]: {} } }, ...(s.url === '/readyz' ? { 503: { description: 'not ready' } } : {}) },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Postlane API', version: info.version, description: 'Send mail, follow its delivery, manage keys, webhooks and domains. See docs/api.md.' },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    paths,
    components: { schemas: components, securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'an API key: pl_<id>_<secret>' },
      cookieAuth: { type: 'apiKey', in: 'cookie', name: 'postlane_session', description: 'a dashboard session (POST /v1/dashboard/login); over TLS the cookie is named __Host-postlane_session; non-GET requests also send X-CSRF-Token, and an admin may name the account with X-Postlane-Account' },
    } },
  };
}

const operationId = (method: string, url: string) =>
  method.toLowerCase() + url.replace(/^\/v1/, '').split('/').filter(Boolean).map((seg) => {
    const name = seg.startsWith(':') ? `by-${seg.slice(1)}` : seg;
    return name.replace(/(^|[-_.])(\w)/g, (_, __, c: string) => c.toUpperCase());
  }).join('');

function objectParams(s: z.ZodType | undefined, where: 'path' | 'query', schema: (s: z.ZodType, io: 'input') => unknown): unknown[] {
  if (!s) return [];
  const shape = (s as z.ZodObject).shape as Record<string, z.ZodType>;
  return Object.entries(shape).map(([name, field]) => ({
    name, in: where, required: where === 'path' || !field.safeParse(undefined).success,
    schema: schema(field, 'input'), ...(field.description ? { description: field.description } : {}),
  }));
}

/** JSON Schema of `s`, its named sub-schemas moved to components (refs rewritten). */
function convert(s: z.ZodType, io: 'input' | 'output', components: Record<string, unknown>): unknown {
  const out = z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  const defs = (out.$defs ?? {}) as Record<string, Json>;
  delete out.$defs;
  delete out.$schema;
  for (const [name, def] of Object.entries(defs)) components[name] ??= rewrite(def);
  const rootId = out.id as string | undefined;
  if (rootId) {
    delete out.id;
    components[rootId] ??= rewrite(out);
    return { $ref: `#/components/schemas/${rootId}` };
  }
  return rewrite(out);
}

function rewrite(v: unknown): any {
  if (Array.isArray(v)) return v.map(rewrite);
  if (v && typeof v === 'object') {
    const o: Json = {};
    for (const [k, val] of Object.entries(v as Json)) {
      if (k === 'id' && typeof val === 'string') continue;
      o[k] = k === '$ref' && typeof val === 'string' ? val.replace('#/$defs/', '#/components/schemas/') : rewrite(val);
    }
    return o;
  }
  return v;
}
