// CSV export and import of the account's suppression list over the API (issue 12), in the format
// of `postlane suppressions export|import` (events/suppression-csv.ts): export needs read, import
// needs send like POST /v1/suppressions (it only stops mail); an address already suppressed keeps
// its entry. The API takes JSON only, so the CSV to import travels as a JSON string.
import { z } from 'zod/v4';
import { formatSuppressionsCsv, parseSuppressionsCsv } from '../../events/suppression-csv.js';
import type { Suppression } from '../../store/suppression-store.js';
import type { QueueStore } from '../../store/store.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody } from '../schemas.js';
import type { RouteContext } from './context.js';
import { heavyResponses, heavyReadResponses } from '../heavy-work.js';

const PAGE = 1000;
const MAX_CSV_CHARS = 10_000_000;

const importBody = z.object({
  csv: z.string().min(1).max(MAX_CSV_CHARS).describe('a header with email (or address) and optionally scope, reason, detail; or one address per line'),
}).strict().meta({ id: 'SuppressionImport' });

const importResult = z.object({
  read: z.number().int(), added: z.number().int().describe('new entries (addresses already suppressed keep theirs)'),
  errors: z.array(z.object({ line: z.number().int(), message: z.string() })).describe('refused lines (at most 100 listed)'),
}).meta({ id: 'SuppressionImportResult' });

async function allEntries(store: QueueStore, account: string): Promise<Suppression[]> {
  const out: Suppression[] = [];
  let after: Suppression | undefined;
  for (;;) {
    const page = await store.listSuppressions({ account, limit: PAGE, ...(after ? { after } : {}) });
    out.push(...page);
    if (page.length < PAGE) return out;
    after = page[page.length - 1];
  }
}

export function suppressionCsvRoutes(ctx: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET', url: '/v1/suppressions/export', scope: 'read', tag: 'suppressions',
      summary: 'The whole suppression list as CSV (email,scope,reason,created_at,source,message_id,detail)',
      heavyRead: true,
      responses: { 200: { description: 'text/csv' }, 429: { description: `${heavyResponses[429].description}; or ${heavyReadResponses[429].description}`, schema: heavyResponses[429].schema } },
      handler: async (r) => {
        // Counted in rows read (http.heavyWorkPerAccountPerMinute), known after the read: refused only once the minute is used up.
        ctx.heavyWork.check(r.key.account);
        const entries = await allEntries(ctx.store, r.key.account);
        ctx.heavyWork.charge(r.key.account, entries.length);
        return {
          status: 200, body: formatSuppressionsCsv(entries),
          headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="suppressions-${r.key.account}.csv"` },
        };
      },
    }),
    defineRoute({
      method: 'POST', url: '/v1/suppressions/import', scope: 'send', tag: 'suppressions', body: importBody,
      summary: 'Add the addresses of a CSV text to the suppression list; refused lines are listed',
      responses: { 200: { description: 'what was read, added and refused', schema: importResult }, 422: { description: 'invalid fields', schema: errorBody }, ...heavyResponses },
      handler: async (r) => {
        const parsed = parseSuppressionsCsv(r.body.csv);
        ctx.heavyWork.take(r.key.account, parsed.rows.length);
        const now = ctx.clock.now();
        let added = 0;
        for (let i = 0; i < parsed.rows.length; i += PAGE) {
          added += await ctx.store.addSuppressions(parsed.rows.slice(i, i + PAGE).map((row) => ({
            account: r.key.account, address: row.email, scope: row.scope, reason: row.reason, source: 'import', messageId: null, detail: row.detail, createdAt: now,
          })));
        }
        return { status: 200, body: { read: parsed.rows.length + parsed.errors.length, added, errors: parsed.errors.slice(0, 100) } };
      },
    }),
  ];
}
