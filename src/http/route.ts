// Owns the description of one API route as data: method, path, the scope it needs, the zod
// schemas of its params/query/body and of its answers, and the handler. server.ts registers these
// with fastify and openapi.ts documents them, from the same objects: the document cannot list a
// route the server does not serve, nor a schema the route does not validate with.
import type { z } from 'zod/v4';
import type { ApiKeyRecord, ApiScope } from '../store/platform-store.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface ApiRequest<B, Q, P> {
  key: ApiKeyRecord;
  body: B;
  query: Q;
  params: P;
  clientIp: string;
  secure: boolean;
  /** The TLS session of an HTTPS request (for the Received field). */
  tls: { protocol: string; cipher: string } | null;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ResponseDoc { description: string; schema?: z.ZodType }

type Parsed<S> = S extends z.ZodType ? z.infer<S> : undefined;

export interface RouteDef<B extends z.ZodType | undefined, Q extends z.ZodType | undefined, P extends z.ZodType | undefined> {
  method: HttpMethod;
  /** fastify syntax: /v1/messages/:id */
  url: string;
  scope: ApiScope;
  summary: string;
  tag: string;
  body?: B;
  query?: Q;
  params?: P;
  /** Honours the Idempotency-Key header (POST routes that create something). */
  idempotent?: boolean;
  /** Top-level answer fields shown once (a token, a secret): stored for replay as null, never kept. */
  secretFields?: string[];
  /**
   * A read whose cost grows with the account's history (a listing, a search, statistics): at most
   * http.heavyReadsPerAccount of them in flight per account (heavy-work.ts HeavyReads), else 429.
   */
  heavyRead?: boolean;
  responses: Record<number, ResponseDoc>;
  handler(req: ApiRequest<Parsed<B>, Parsed<Q>, Parsed<P>>): Promise<ApiResponse>;
}

export interface ApiRoute {
  method: HttpMethod;
  url: string;
  scope: ApiScope;
  summary: string;
  tag: string;
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
  idempotent?: boolean;
  /** Top-level answer fields shown once (a token, a secret): stored for replay as null, never kept. */
  secretFields?: string[];
  /**
   * A read whose cost grows with the account's history (a listing, a search, statistics): at most
   * http.heavyReadsPerAccount of them in flight per account (heavy-work.ts HeavyReads), else 429.
   */
  heavyRead?: boolean;
  responses: Record<number, ResponseDoc>;
  handler(req: ApiRequest<unknown, unknown, unknown>): Promise<ApiResponse>;
}

/** Keeps the handler's types tied to its schemas. */
export const defineRoute = <B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, P extends z.ZodType | undefined = undefined>(
  def: RouteDef<B, Q, P>,
): ApiRoute => def as unknown as ApiRoute;
