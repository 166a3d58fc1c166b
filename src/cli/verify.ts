// `postlane verify ADDRESS... [--account A] [--json] [--fail-on VERDICTS]`: the verification of
// POST /v1/verify for operators, through the configured DNS servers and the store, judged against
// one account's suppressions and history. A table by default (address, verdict, mail hosts,
// reasons), the API's result objects with --json. Exit 0 whatever the verdicts (they are answers,
// not failures) unless --fail-on names verdicts: then 4 when any address got one of them.
// Usage errors exit 2, an unknown account 3 (cli/failure.ts).
import type { Command } from 'commander';
import { RelayError } from '../errors.js';
import { DEFAULT_ACCOUNT } from '../store/platform-store.js';
import type { Verdict, VerifyResult } from '../verify/index.js';
import { VERDICTS } from '../verify/verdict-rules.js'; // not the index: see lazyDelivery in admin-store.ts
import { configOption, withStore } from './admin-store.js';

/** Exit code when --fail-on matched. */
export const EXIT_VERDICT = 4;

interface Options { config?: string; account: string; json?: boolean; failOn?: string }

export function registerVerifyCommand(program: Command) {
  program.command('verify').description('verify addresses: syntax, domain, MX, role, disposable, the account\'s suppressions and history → deliverable / risky / undeliverable / unknown')
    .argument('<address...>', 'addresses; - reads them from stdin, one a line')
    .addOption(configOption())
    .option('--account <name>', 'judge against this account\'s suppressions and history', DEFAULT_ACCOUNT)
    .option('--json', 'the results as JSON (the objects POST /v1/verify answers)')
    .option('--fail-on <verdicts>', `exit ${EXIT_VERDICT} if any address gets one of these (comma-separated: ${VERDICTS.join(', ')})`)
    .action(async (args: string[], o: Options) => {
      const failOn = parseVerdicts(o.failOn);
      const addresses = args.includes('-') ? [...args.filter((a) => a !== '-'), ...(await readStdinLines())] : args;
      if (addresses.length === 0) throw new RelayError('ERR_USAGE', 'no addresses to verify');
      const [{ systemClock }, { createResolver }, { createVerifier }] = await Promise.all([import('../clock.js'), import('../delivery/index.js'), import('../verify/index.js')]);
      const results = await withStore(o.config, async (store, config) => {
        if (!(await store.getAccount(o.account))) throw new RelayError('ERR_NOT_FOUND', `account ${o.account} not found`);
        return createVerifier({ config, store, resolver: createResolver(config.dns), clock: systemClock }).verify(o.account, addresses);
      });
      console.log(o.json ? JSON.stringify(results, null, 2) : formatTable(results));
      if (results.some((r) => failOn.includes(r.verdict))) process.exitCode = EXIT_VERDICT;
    });
}

function parseVerdicts(text: string | undefined): Verdict[] {
  if (text === undefined) return [];
  const list = text.split(',').map((v) => v.trim()).filter((v) => v !== '');
  const bad = list.filter((v) => !(VERDICTS as readonly string[]).includes(v));
  if (bad.length > 0 || list.length === 0) throw new RelayError('ERR_USAGE', `--fail-on takes ${VERDICTS.join(', ')} (comma-separated), not "${text}"`);
  return list as Verdict[];
}

const mxText = (r: VerifyResult): string => {
  const { kind, hosts } = r.checks.mx;
  if (kind === 'mx') return hosts.join(',');
  if (kind === 'implicit') return `(implicit) ${hosts[0]}`;
  if (kind === 'null') return '(null MX)';
  return '-';
};

/** Address, verdict, mail hosts, reason codes: columns padded to the widest cell. */
export function formatTable(results: readonly VerifyResult[]): string {
  const rows = [['ADDRESS', 'VERDICT', 'MAIL HOSTS', 'REASONS'], ...results.map((r) => [
    r.address, r.verdict, mxText(r), r.reasons.map((x) => x.code).join(',') || '-',
  ])];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((row) => [...row[c]!].length)));
  return rows.map((row) => row.map((cell, c) => (c < 3 ? cell + ' '.repeat(widths[c]! - [...cell].length) : cell)).join('  ')).join('\n');
}

async function readStdinLines(): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
}
