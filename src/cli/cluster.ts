// `postlane cluster status`: the relay nodes sharing this queue (one on SQLite, several on
// PostgreSQL), their last heartbeat and in-flight deliveries, and the queue depth by state.
import type { Command } from 'commander';
import { configOption, withStore } from './admin-store.js';

/** A node whose last heartbeat is older than this is shown as down (heartbeats come every 10 s). */
const STALE_MS = 30_000;
const RECENT_MS = 24 * 3_600_000;

export function registerClusterCommands(program: Command) {
  const cluster = program.command('cluster').description('the relay nodes sharing this queue');
  cluster.command('status')
    .description('nodes (last heartbeat, in-flight deliveries, up or down) and queue depth by state')
    .addOption(configOption())
    .option('--json', 'machine-readable')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const now = Date.now();
      const { nodes, counts } = await withStore(opts.config, async (s) => ({ nodes: await s.listNodes(now - RECENT_MS), counts: await s.counts() }));
      const rows = nodes.map((n) => ({ ...n, up: now - n.lastSeenAt <= STALE_MS }));
      if (opts.json) {
        process.stdout.write(JSON.stringify({ nodes: rows, queue: counts }) + '\n');
        return;
      }
      for (const n of rows) {
        process.stdout.write(`${n.nodeId}\t${n.up ? 'up' : 'down'}\tlast seen ${new Date(n.lastSeenAt).toISOString()}\tin flight ${n.inFlight}\tstarted ${new Date(n.startedAt).toISOString()}\n`);
      }
      process.stdout.write(`queue: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    });
}
