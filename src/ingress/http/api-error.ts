// Owns the error value of the HTTP API: a status, a stable machine-readable code, a bland message,
// and for validation failures the list of offending fields. The submission path throws it; the
// server (src/http/server.ts) renders it as {"error":{code,message,fields}}. Codes are listed in
// docs/api.md; messages never include SQL, hostnames or stack traces.
import type { z } from 'zod/v4';

export interface FieldError { path: string; message: string }

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
    /** Seconds, for 429 and 503 (the Retry-After header). */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): { error: { code: string; message: string; fields?: FieldError[] } } {
    return { error: { code: this.code, message: this.message, ...(this.fields.length ? { fields: this.fields } : {}) } };
  }
}

/** "to.0.email" from a zod path (or any key list); '' for the whole body. */
export const fieldPath = (path: readonly PropertyKey[]) => path.map(String).join('.');

export const invalidFields = (fields: FieldError[], message = 'The request has invalid fields') =>
  new ApiError(422, 'validation_failed', message, fields);

/** The field errors of a failed zod parse, each prefixed with `prefix` (e.g. "messages.3"). */
export function zodFields(error: { issues: readonly z.core.$ZodIssue[] }, prefix: readonly PropertyKey[] = []): FieldError[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ path: fieldPath([...prefix, ...issue.path, k]), message: 'unknown field' }));
    }
    return [{ path: fieldPath([...prefix, ...issue.path]), message: issue.message }];
  });
}

export const queueUnavailable = () => new ApiError(503, 'unavailable', 'Temporary problem storing the message, try again later', [], 5);
