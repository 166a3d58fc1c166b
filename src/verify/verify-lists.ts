// Owns the two word lists of verification: role local parts and disposable domains. Both ship as
// data in src/verify/lists/ (one entry a line, '#' comments); operators may add a file of extra
// disposable domains (config verify.extraDisposableDomains), re-read when its modification time
// changes (checked at most every `recheckMs`), so a newer list needs no new release.
import fs from 'node:fs';
import { domainToASCII } from 'node:url';
import { ConfigError, RelayError } from '../errors.js';

const BUILT_IN = {
  roles: new URL('../../../src/verify/lists/role-local-parts.txt', import.meta.url),
  disposable: new URL('../../../src/verify/lists/disposable-domains.txt', import.meta.url),
};

/** One entry a line, lower-cased; blank lines and '#' comments skipped. */
export function parseList(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.replace(/#.*/, '').trim().toLowerCase()).filter((l) => l !== '');
}

function readList(file: string | URL, what: string): string[] {
  try {
    return parseList(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RelayError('ERR_CONFIG_INVALID', `${what}: cannot read ${String(file)}: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** Whether a domain or one of its parents is in `set` (foo.mailinator.com matches mailinator.com). */
export function isInDomainSet(set: ReadonlySet<string>, domain: string): boolean {
  const labels = (domainToASCII(domain) || domain).toLowerCase().split('.');
  for (let i = 0; i < labels.length - 1; i++) if (set.has(labels.slice(i).join('.'))) return true;
  return false;
}

/** The local part a role list is matched against: lower case, +detail and quotes removed. */
export const roleKey = (local: string): string => local.replace(/^"|"$/g, '').toLowerCase().replace(/\+.*$/, '');

export interface VerifyListsOptions {
  /** verify.extraDisposableDomains: a file of more disposable domains, or null. */
  extraDisposableFile: string | null;
  recheckMs?: number;
  now?: () => number;
}

export class VerifyLists {
  readonly #roles: ReadonlySet<string>;
  readonly #builtInDisposable: readonly string[];
  readonly #extraFile: string | null;
  readonly #recheckMs: number;
  readonly #now: () => number;
  #disposable: ReadonlySet<string>;
  #extraMtimeMs = -1;
  #checkedAt = 0;

  constructor(opts: VerifyListsOptions) {
    this.#roles = new Set(readList(BUILT_IN.roles, 'role local parts'));
    this.#builtInDisposable = readList(BUILT_IN.disposable, 'disposable domains');
    this.#extraFile = opts.extraDisposableFile;
    this.#recheckMs = opts.recheckMs ?? 30_000;
    this.#now = opts.now ?? Date.now;
    this.#disposable = new Set(this.#builtInDisposable);
    this.#reloadExtra(true);
  }

  isRole(local: string): boolean { return this.#roles.has(roleKey(local)); }

  isDisposable(domain: string): boolean {
    this.#reloadExtra(false);
    return isInDomainSet(this.#disposable, domain);
  }

  get disposableCount(): number { return this.#disposable.size; }

  /** Re-reads the extra file when it changed. At start-up a missing file is a config error; later a read error keeps the last list. */
  #reloadExtra(initial: boolean) {
    const file = this.#extraFile;
    if (!file || (!initial && this.#now() - this.#checkedAt < this.#recheckMs)) return;
    this.#checkedAt = this.#now();
    try {
      const mtime = fs.statSync(file).mtimeMs;
      if (mtime === this.#extraMtimeMs) return;
      const extra = readList(file, 'verify.extraDisposableDomains');
      this.#disposable = new Set([...this.#builtInDisposable, ...extra]);
      this.#extraMtimeMs = mtime;
    } catch (err) {
      if (initial) throw new ConfigError(`verify.extraDisposableDomains: cannot read ${file}: ${(err as Error).message}`, 'verify.extraDisposableDomains');
    }
  }
}
