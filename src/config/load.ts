// Loads the configuration in layers — schema defaults ← YAML file ← POSTLANE_* environment —
// validates it, and returns a frozen Config. Errors name the offending key.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { ConfigError } from '../errors.js';
import { checkEgressRules } from './egress-rules.js';

const ENV_PREFIX = 'POSTLANE_';
/** Variables with that prefix that are not config keys. */
const ENV_NOT_KEYS = new Set(['POSTLANE_CONFIG', 'POSTLANE_DEBUG']);

/** Every key path the schema knows, e.g. ['delivery','retrySchedule','initial']. */
function keyPaths(schema: z.ZodTypeAny, prefix: string[] = []): string[][] {
  const objects = objectShapes(schema);
  if (objects.length === 0) return [prefix];
  const out: string[][] = prefix.length ? [prefix] : [];
  for (const shape of objects) {
    for (const [key, child] of Object.entries(shape)) out.push(...keyPaths(child as z.ZodTypeAny, [...prefix, key]));
  }
  return out;
}

function objectShapes(schema: z.ZodTypeAny): z.ZodRawShape[] {
  if (schema instanceof z.ZodObject) return [schema.shape];
  if (schema instanceof z.ZodDefault) return objectShapes(schema._def.innerType);
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) return objectShapes(schema.unwrap());
  if (schema instanceof z.ZodEffects) return objectShapes(schema.innerType());
  if (schema instanceof z.ZodUnion) return (schema.options as z.ZodTypeAny[]).flatMap((o) => objectShapes(o));
  return [];
}

const normalise = (parts: string[]) => parts.join('').replace(/_/g, '').toLowerCase();

/** POSTLANE_DELIVERY_PORT=2526 → { path: ['delivery','port'], value: 2526 } (YAML-typed value). */
export function envOverrides(env: NodeJS.ProcessEnv): { path: string[]; value: unknown; name: string }[] {
  const byNormalised = new Map<string, string[]>();
  for (const p of keyPaths(configSchema)) byNormalised.set(p.map((k) => k.toLowerCase()).join('.'), p);
  const out: { path: string[]; value: unknown; name: string }[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || ENV_NOT_KEYS.has(name) || raw === undefined) continue;
    const found = matchEnvName(name.slice(ENV_PREFIX.length).toLowerCase().split('_'), byNormalised);
    if (!found) throw new ConfigError(`${name}: no such configuration key`, name);
    out.push({ path: found, value: parseEnvValue(raw), name });
  }
  return out;
}

/** Tokens from the variable name are grouped into path segments; segments match keys ignoring case and _. */
function matchEnvName(tokens: string[], known: Map<string, string[]>): string[] | null {
  const search = (start: number, segs: string[]): string[] | null => {
    if (start === tokens.length) return known.get(segs.join('.')) ?? null;
    for (let end = start + 1; end <= tokens.length; end++) {
      const seg = normalise(tokens.slice(start, end));
      const prefix = [...segs, seg].join('.');
      if (![...known.keys()].some((k) => k === prefix || k.startsWith(prefix + '.'))) continue;
      const r = search(end, [...segs, seg]);
      if (r) return r;
    }
    return null;
  };
  return search(0, []);
}

function parseEnvValue(raw: string): unknown {
  try { return YAML.parse(raw, { logLevel: 'silent' }); } catch { return raw; }
}

/**
 * The YAML document as plain data. What the yaml library only warns about (an unknown tag or
 * directive, a mapping used as a key) is an error here: it would otherwise print a process warning
 * and load a guess.
 */
function parseYaml(text: string, name: string): unknown {
  // secret31: the yaml library quotes the offending source line under its message, and that line
  // can hold a secret (an unterminated `pass: "…`); the line and column say where, the text is not shown.
  const where = (message: string) => message.split('\n')[0]!.replace(/:$/, '');
  let doc: YAML.Document.Parsed;
  try { doc = YAML.parseDocument(text, { prettyErrors: true, logLevel: 'silent' }); } catch (err) {
    throw new ConfigError(`${name}: invalid YAML: ${where((err as Error).message)}`, 'config');
  }
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw new ConfigError(`${name}: invalid YAML: ${where(problem.message)}`, 'config');
  let collectionKey = false;
  YAML.visit(doc, { Pair: (_, pair) => { if (YAML.isCollection(pair.key)) { collectionKey = true; return YAML.visit.BREAK; } return undefined; } });
  if (collectionKey) throw new ConfigError(`${name}: invalid YAML: a mapping or sequence used as a key`, 'config');
  try { return doc.toJS({ maxAliasCount: 100 }) ?? {}; } catch (err) {
    throw new ConfigError(`${name}: invalid YAML: ${where((err as Error).message)}`, 'config');
  }
}

function setPath(target: Record<string, unknown>, keyPath: string[], value: unknown) {
  let node = target;
  for (const key of keyPath.slice(0, -1)) {
    const next = node[key];
    if (next === false || next === null || typeof next !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keyPath[keyPath.length - 1]!] = value;
}

export interface LoadOptions {
  /** YAML file; undefined: POSTLANE_CONFIG, else ./postlane.yaml if present, else defaults only. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Programmatic overrides applied last (used by `postlane start --data-dir`). */
  overrides?: Record<string, unknown>;
}

export function loadConfig(opts: LoadOptions = {}): Readonly<Config> {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.POSTLANE_CONFIG ?? (fs.existsSync('postlane.yaml') ? 'postlane.yaml' : undefined);
  if (!file) return loadConfigText(null, { env, overrides: opts.overrides, baseDir: process.cwd() });
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`, 'config');
  }
  return loadConfigText(text, { env, overrides: opts.overrides, file, baseDir: path.dirname(path.resolve(file)) });
}

/**
 * The configuration from YAML text (null: none) ← env ← overrides; what loadConfig does once the
 * file is read (and what the fuzzer calls). Throws only ConfigError.
 */
export function loadConfigText(text: string | null, opts: { env: NodeJS.ProcessEnv; overrides?: Record<string, unknown>; file?: string; baseDir: string }): Readonly<Config> {
  const { env, file, baseDir } = opts;
  const name = file ?? 'config';
  let raw: Record<string, unknown> = {};
  if (text !== null) {
    raw = parseYaml(text, name) as Record<string, unknown>;
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${name}: top level must be a mapping`, 'config');
  }
  for (const o of envOverrides(env)) setPath(raw, o.path, o.value);
  for (const [k, v] of Object.entries(opts.overrides ?? {})) setPath(raw, k.split('.'), v);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw configErrorOf(parsed.error.issues, file);
  const cfg = parsed.data;
  cfg.dataDir = path.resolve(baseDir, cfg.dataDir);
  if (cfg.tls.cert) cfg.tls.cert = path.resolve(baseDir, cfg.tls.cert);
  if (cfg.tls.key) cfg.tls.key = path.resolve(baseDir, cfg.tls.key);
  if (cfg.delivery.tlsCaFile) cfg.delivery.tlsCaFile = path.resolve(baseDir, cfg.delivery.tlsCaFile);
  if (cfg.delivery.mtaSts.caFile) cfg.delivery.mtaSts.caFile = path.resolve(baseDir, cfg.delivery.mtaSts.caFile);
  checkCrossFieldRules(cfg);
  return deepFreeze(cfg);
}

/** Every problem zod found, one per key path: "delivery.maxQueueTime: expected a duration like …". */
export function describeIssues(issues: readonly z.ZodIssue[]): { key: string; message: string }[] {
  const out: { key: string; message: string }[] = [];
  for (const issue of issues) {
    const at = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const k = key === '' ? '""' : key; // YAML's ": 1" has an empty key, still to be named
        out.push({ key: at ? `${at}.${k}` : k, message: 'unknown key' });
      }
      continue;
    }
    const key = at || '(top level)';
    let message = issue.message.startsWith(`${key}: `) ? issue.message.slice(key.length + 2) : issue.message;
    if (issue.code === 'invalid_union') {
      // A union (false | { … }): the problems inside the branch that matched best, or what was expected.
      const deeper = issue.unionErrors.map((e) => e.issues).find((l) => l.some((i) => i.path.length > issue.path.length));
      if (deeper) { out.push(...describeIssues(deeper)); continue; }
      const expected = new Set(issue.unionErrors.flatMap((e) => e.issues).map((i) =>
        i.code === 'invalid_type' ? i.expected : i.code === 'invalid_literal' ? JSON.stringify(i.expected) : null).filter(Boolean));
      if (expected.size) message = `expected ${[...expected].join(' or ')}`;
    }
    out.push({ key, message });
  }
  return out.filter((p, i) => out.findIndex((q) => q.key === p.key && q.message === p.message) === i);
}

function configErrorOf(issues: readonly z.ZodIssue[], file: string | undefined): ConfigError {
  const problems = describeIssues(issues);
  const first = problems[0] ?? { key: '(top level)', message: 'invalid' };
  if (problems.length === 1) return new ConfigError(`invalid configuration at ${first.key}: ${first.message}`, first.key, problems);
  const where = file ? ` in ${file}` : '';
  const lines = problems.map((p) => `  ${p.key}: ${p.message}`).join('\n');
  return new ConfigError(`invalid configuration${where} (${problems.length} problems):\n${lines}`, first.key, problems);
}

function checkCrossFieldRules(cfg: Config) {
  if ((cfg.tls.cert === null) !== (cfg.tls.key === null)) {
    throw new ConfigError('invalid configuration at tls: set both cert and key, or neither', 'tls');
  }
  const s = cfg.delivery.retrySchedule;
  if (s.initial > s.max) throw new ConfigError('invalid configuration at delivery.retrySchedule.initial: larger than max', 'delivery.retrySchedule.initial');
  const seen = new Map<string, string>();
  for (const name of ['submission', 'submissions', 'alt', 'mx'] as const) {
    const l = cfg.smtp[name];
    if (l === false || l.port === 0) continue;
    const k = `${l.host}:${l.port}`;
    if (seen.has(k)) throw new ConfigError(`invalid configuration at smtp.${name}: same address as smtp.${seen.get(k)} (${k})`, `smtp.${name}`);
    seen.set(k, name);
  }
  checkEgressRules(cfg.egress);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
