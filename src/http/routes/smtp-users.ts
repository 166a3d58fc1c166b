// /v1/smtp-users: the account's SMTP AUTH users (read: list; admin: add, change, remove), created
// and changed through the CLI's path (users/smtp-user-admin.ts): the password is hashed with scrypt and never returned,
// stored for idempotent replay, or logged. A user may be granted only the account's own sending
// domains (never "any domain" through the API). Another account's user is a 404.
import { z } from 'zod/v4';
import { normalizeDomain } from '../../domains/domain-name.js';
import { RelayError } from '../../errors.js';
import { ApiError, invalidFields } from '../../ingress/http/api-error.js';
import type { UserRecord } from '../../store/store.js';
import { isValidUserName } from '../../users/password.js';
import { changeSmtpUser, createSmtpUser, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../users/smtp-user-admin.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody, isoTime, limitsChange } from '../schemas.js';
import type { RouteContext } from './context.js';

const userName = z.string().min(1).max(128).refine(isValidUserName, 'letters, digits, . _ @ + - (at most 128)');

const smtpUserBody = z.object({
  name: z.string(), created_at: z.string(), allowed_domains: z.array(z.string()), any_domain: z.boolean(),
  default_stream: z.enum(['transactional', 'broadcast']),
  limits: z.object({ perSecond: z.number().int().optional(), perHour: z.number().int().optional(), perDay: z.number().int().optional(), perMonth: z.number().int().optional() })
    .describe('the user\'s own limits, on top of its account\'s (absent window: only the account\'s)'),
}).meta({ id: 'SmtpUser' });

const createUser = z.object({
  name: userName,
  password: z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH).describe('never returned nor logged'),
  allowed_domains: z.array(z.string().min(1).max(253)).max(100).optional().describe('sending domains of the account (subdomains included) the user may send as'),
  default_stream: z.enum(['transactional', 'broadcast']).optional(),
}).strict().meta({ id: 'CreateSmtpUserRequest' });

const changeUser = z.object({
  allowed_domains: z.array(z.string().min(1).max(253)).max(100).optional().describe('the whole list of sending domains of the account the user may send as (replaces the current one)'),
  limits: limitsChange.optional(),
  default_stream: z.enum(['transactional', 'broadcast']).optional(),
}).strict().meta({ id: 'ChangeSmtpUserRequest' });

const userParams = z.object({ name: userName }).strict();

const renderUser = (u: UserRecord) => ({
  name: u.name, created_at: isoTime(u.createdAt)!, allowed_domains: u.allowedDomains, any_domain: u.anyDomain, default_stream: u.defaultStream,
  limits: Object.fromEntries(Object.entries(u.limits).filter(([, v]) => v !== null && v !== undefined)),
});

/** Each named domain normalized, or a 422 naming the bad one. */
function domainsOf(input: string[]): string[] {
  return input.map((d, i) => {
    const name = normalizeDomain(d);
    if (!name) throw invalidFields([{ path: `allowed_domains.${i}`, message: 'not a domain name' }]);
    return name;
  });
}

export function smtpUserRoutes(ctx: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET', url: '/v1/smtp-users', scope: 'read', tag: 'smtp-users', summary: 'The account\'s SMTP AUTH users (never their passwords)',
      responses: { 200: { description: 'users', schema: z.object({ data: z.array(smtpUserBody) }) } },
      handler: async (r) => ({ status: 200, body: { data: (await ctx.store.listUsers(r.key.account)).map(renderUser) } }),
    }),
    defineRoute({
      method: 'POST', url: '/v1/smtp-users', scope: 'admin', tag: 'smtp-users', body: createUser,
      summary: 'Add an SMTP AUTH user to the account; the password is hashed (scrypt) and never shown again',
      responses: {
        201: { description: 'added', schema: smtpUserBody },
        409: { description: 'user_exists: the name is taken (user names are global)', schema: errorBody },
        422: { description: 'invalid fields (allowed_domains.N: not a sending domain of this account)', schema: errorBody },
      },
      handler: async (r) => {
        const allowedDomains = domainsOf(r.body.allowed_domains ?? []);
        const user = {
          name: r.body.name, password: r.body.password, account: r.key.account, allowedDomains, anyDomain: false,
          limits: {}, defaultStream: r.body.default_stream ?? 'transactional' as const, now: ctx.clock.now(),
        };
        try {
          await createSmtpUser(ctx.store, user);
        } catch (err) {
          throw toApiError(err, allowedDomains);
        }
        const stored = await ctx.store.getUser(user.name);
        return { status: 201, body: renderUser(stored!) };
      },
    }),
    defineRoute({
      method: 'PATCH', url: '/v1/smtp-users/:name', scope: 'admin', tag: 'smtp-users', params: userParams, body: changeUser,
      summary: 'Change an SMTP AUTH user of the account: the domains it may send as, its own limits (each window named takes the number, null clears it), its default stream; what is absent stays',
      responses: {
        200: { description: 'the user as changed', schema: smtpUserBody },
        404: { description: 'no such user in this account', schema: errorBody },
        422: { description: 'invalid fields (allowed_domains.N: not a sending domain of this account)', schema: errorBody },
      },
      handler: async (r) => {
        const allowedDomains = r.body.allowed_domains === undefined ? undefined : domainsOf(r.body.allowed_domains);
        const change = { allowedDomains, limits: r.body.limits, defaultStream: r.body.default_stream };
        try {
          return { status: 200, body: renderUser(await changeSmtpUser(ctx.store, r.params.name, change, { account: r.key.account })) };
        } catch (err) {
          throw toApiError(err, allowedDomains ?? []);
        }
      },
    }),
    defineRoute({
      method: 'DELETE', url: '/v1/smtp-users/:name', scope: 'admin', tag: 'smtp-users', params: userParams,
      summary: 'Remove an SMTP AUTH user of the account (its sessions in progress keep going; new logins fail)',
      responses: { 204: { description: 'removed' }, 404: { description: 'no such user in this account', schema: errorBody } },
      handler: async (r) => {
        const u = await ctx.store.getUser(r.params.name);
        if (!u || u.account !== r.key.account || !(await ctx.store.removeUser(u.name))) throw new ApiError(404, 'not_found', 'No such user');
        return { status: 204 };
      },
    }),
  ];
}

function toApiError(err: unknown, domains: string[]): unknown {
  if (!(err instanceof RelayError)) return err;
  if (err.code === 'ERR_NOT_FOUND') return new ApiError(404, 'not_found', 'No such user');
  if (err.code === 'ERR_USER_EXISTS') return new ApiError(409, 'user_exists', 'That user name is taken');
  if (err.code === 'ERR_DOMAIN_ACCOUNT') {
    const i = Math.max(0, domains.findIndex((d) => err.message.startsWith(`${d} `)));
    return invalidFields([{ path: `allowed_domains.${i}`, message: 'not a sending domain of this account' }]);
  }
  if (err.code === 'ERR_USAGE') return invalidFields([{ path: err.message.startsWith('password') ? 'password' : 'name', message: err.message }]);
  return err;
}
