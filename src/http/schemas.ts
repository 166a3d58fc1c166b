// Owns the schemas the routes share (error body, list pages, path ids) and the opaque cursors of
// paged lists. A cursor is base64url JSON: clients pass it back unchanged and never build one.
import { z } from 'zod/v4';
import { ApiError } from '../ingress/http/api-error.js';

export const errorBody = z.object({
  error: z.object({
    code: z.string().describe('stable, machine-readable (docs/api.md lists them)'),
    message: z.string(),
    fields: z.array(z.object({ path: z.string(), message: z.string() })).optional().describe('validation failures, one per field'),
  }),
}).meta({ id: 'Error' });

export const idParams = z.object({ id: z.string().min(1).max(100) }).strict();

export const isoTime = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** ISO 8601 date-time in a query string, as ms. */
export const queryTime = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

export const limitParam = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt);

export const page = <T extends z.ZodType>(item: T, id: string) => z.object({
  data: z.array(item),
  next_cursor: z.string().nullable().describe('pass as ?cursor= for the next page; null: no more'),
}).meta({ id });

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** The cursor's value, checked by `schema`; a bad cursor is a 400 on the `cursor` parameter. */
export function decodeCursor<T extends z.ZodType>(cursor: string | undefined, schema: T): z.infer<T> | undefined {
  if (cursor === undefined) return undefined;
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new ApiError(400, 'invalid_query', 'The query is invalid', [{ path: 'cursor', message: 'not a cursor returned by this API' }]);
  }
}

/** A change of rate limits (PATCH of an account's plan or a user's own limits): a named window takes the number, null clears it (unlimited), an absent one stays. */
const limitValue = z.number().int().min(0).max(999_999_999_999).nullable();
export const limitsChange = z.object({
  perSecond: limitValue.optional(), perHour: limitValue.optional(), perDay: limitValue.optional(), perMonth: limitValue.optional().describe('calendar month, UTC'),
}).strict().meta({ id: 'LimitsChange' });
