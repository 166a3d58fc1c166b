// `postlane sim`: runs the mailbox-provider simulator (src/sim/) in the foreground, for pointing a
// staging relay at test MX hosts that answer like Gmail, Microsoft or Yahoo. Needs no relay
// config or store. Prints JSON lines on stdout: sim.started (listeners and the DNS records to
// publish), sim.received, sim.refused and sim.complaint as they happen, sim.stats every
// --stats-interval and once more on Ctrl-C / SIGTERM, then exits 0.
import type { Command } from 'commander';
import { parseDurationMs } from '../config/units.js';
import { RelayError } from '../errors.js';
import { loadSimConfig, parseListen, providersFromFlags, type SimRunConfig } from '../sim/sim-config.js';
import type { Simulator } from '../sim/simulator.js';
import type { startStatusServer } from '../sim/status-server.js';
import { STOCK_PROFILE_NAMES } from '../sim/profile.js';

interface Options { config?: string; profile: string[]; listen: string[]; set: string[]; status?: string; publicStatus?: boolean; statsInterval?: string; complaintsTo?: string }

const collect = (v: string, prev: string[]) => [...prev, v];
const line = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...o }) + '\n');

export function registerSimCommand(program: Command) {
  program.command('sim')
    .description(`run test MX hosts that answer like mailbox providers (stock profiles: ${STOCK_PROFILE_NAMES.join(', ')}): rate limits, connection limits, greylisting, unknown users, policy blocks, slow DATA; see docs/simulator.md`)
    .option('--config <file>', 'simulator config (YAML/JSON: providers, status, statsInterval); not the relay\'s postlane.yaml')
    .option('--profile <name>', 'a stock profile to run (repeatable; paired in order with --listen)', collect, [])
    .option('--listen <ip:port>', 'where that profile listens, e.g. 127.0.0.2:2525 (repeatable)', collect, [])
    .option('--set <key=value>', 'a profile override for every --profile, e.g. ratePerMinute=30, greylistDelay=5m, unknownRecipients=\'["bounce+*@"]\' (repeatable)', collect, [])
    .option('--status <ip:port>', 'serve GET /status, /received, /refusals as JSON here (no auth: loopback only, unless --public-status)')
    .option('--public-status', 'let --status (or the config\'s status) be a non-loopback address: anyone who reaches it reads every sender and recipient')
    .option('--stats-interval <duration>', 'print a sim.stats line this often, e.g. 30s')
    .option('--complaints-to <ip:port>', 'mail an ARF complaint (to the return path) here for each message to complaint@, e.g. the relay\'s MX listener')
    .action(async (o: Options) => {
      const run = resolveRun(o);
      // loaded here, not at start: every other command would pay for smtp-server and nodemailer
      const [{ startSimulator }, { startStatusServer }] = await Promise.all([import('../sim/simulator.js'), import('../sim/status-server.js')]);
      const sim = await startSimulator({
        providers: run.providers, keepBodies: false, ...(run.complaints ? { complaints: run.complaints } : {}),
        onEvent: ({ type, ...e }) => line({ event: `sim.${type}`, ...e }),
      });
      let status: Awaited<ReturnType<typeof startStatusServer>> | null = null;
      try {
        if (run.status) status = await startStatusServer(sim, run.status.host, run.status.port);
      } catch (err) {
        await sim.close();
        throw err;
      }
      line({
        event: 'sim.started',
        providers: sim.providers.map((p) => ({ name: p.name, profile: p.profile.name, host: p.host, port: p.port })),
        dns: dnsRecords(sim),
        ...(status ? { status: status.url } : {}),
      });
      const timer = run.statsIntervalMs ? setInterval(() => line({ event: 'sim.stats', providers: sim.stats() }), run.statsIntervalMs) : null;
      await new Promise<void>((resolve) => {
        const stop = () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      if (timer) clearInterval(timer);
      line({ event: 'sim.stats', final: true, providers: sim.stats() });
      await Promise.all([sim.close(), status?.close()]);
    });
}

function resolveRun(o: Options): SimRunConfig {
  if (o.config && (o.profile.length || o.listen.length || o.set.length)) {
    throw new RelayError('ERR_USAGE', 'give either --config or --profile/--listen/--set, not both');
  }
  const base: SimRunConfig = o.config
    ? loadSimConfig(o.config)
    : { providers: providersFromFlags(o.profile, o.listen, o.set), status: null, statsIntervalMs: null, complaints: null };
  if (base.providers.length === 0) throw new RelayError('ERR_USAGE', 'nothing to run: give --profile NAME --listen IP:PORT (or --config sim.yaml)');
  if (o.status !== undefined) {
    const hp = parseListen(o.status);
    if (!hp) throw new RelayError('ERR_USAGE', `--status takes IP:port, not "${o.status}"`);
    base.status = hp;
  }
  if (o.complaintsTo !== undefined) {
    const hp = parseListen(o.complaintsTo);
    if (!hp) throw new RelayError('ERR_USAGE', `--complaints-to takes IP:port, not "${o.complaintsTo}"`);
    base.complaints = hp;
  }
  if (o.statsInterval !== undefined) {
    const ms = parseDurationMs(o.statsInterval);
    if (!ms) throw new RelayError('ERR_USAGE', `--stats-interval takes a duration such as 30s, not "${o.statsInterval}"`);
    base.statsIntervalMs = ms;
  }
  if (base.status && !o.publicStatus && !isLoopback(base.status.host)) {
    throw new RelayError('ERR_USAGE', `the status endpoint has no authentication and lists every sender and recipient: ${base.status.host} is not a loopback address; use 127.0.0.1, or add --public-status`);
  }
  return base;
}

/** 127.0.0.0/8, ::1 and ::ffff:127.x.y.z. */
const isLoopback = (ip: string): boolean => /^(::ffff:)?127\./i.test(ip) || ip === '::1';

/**
 * The zone a resolver would serve so a relay's MX lookups reach the providers: a domain per
 * provider (<name>.sim.test) with an MX to a host name with the listener's address. The relay's
 * `delivery.port` must be the listeners' port (give them all the same one).
 */
function dnsRecords(sim: Simulator): string[] {
  return sim.providers.flatMap((p) => [
    `${p.name}.sim.test. 0 IN MX 10 mx.${p.name}.sim.test.`,
    `mx.${p.name}.sim.test. 0 IN ${p.host.includes(':') ? 'AAAA' : 'A'} ${p.host}`,
  ]);
}
