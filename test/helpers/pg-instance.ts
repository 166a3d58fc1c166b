// A private PostgreSQL server for one test (initdb into a temp dir, pg_ctl on a free loopback
// port), so a test can stop and start "the database" without touching the shared server on 5432
// that other tests use at the same time. Uses the server binaries installed with PostgreSQL
// (pg_config --bindir, else /usr/lib/postgresql/<newest>/bin). initdb refuses to run as root:
// as root the commands run as the `postgres` user (runuser), and the temp dir is chowned to it.
//
//   const pg = await PgInstance.create();   // null when no server binaries are installed
//   await pg.start(); pg.url('postgres');  await pg.stop('fast');  await pg.start();  await pg.cleanup();
//   PgInstance.create({ parentDir: smallFs.dir, small: true })  // on a given filesystem, 1 MB WAL segments
//   PgInstance.create({ parentDir: slowFs.dir, env: slowFs.env, fsync: true })  // on a slow disk (slow-fs.ts)
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

async function exists(file: string): Promise<boolean> {
  try { await fs.access(file); return true; } catch { return false; }
}

/** The directory holding initdb and pg_ctl, or null. */
export async function findPgBinDir(): Promise<string | null> {
  const candidates: string[] = [];
  try { candidates.push((await run('pg_config', ['--bindir'])).stdout.trim()); } catch { /* not installed */ }
  try {
    const versions = (await fs.readdir('/usr/lib/postgresql')).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch { /* no Debian layout */ }
  for (const dir of candidates) {
    if (await exists(path.join(dir, 'initdb')) && await exists(path.join(dir, 'pg_ctl'))) return dir;
  }
  return null;
}

export interface PgInstanceOptions {
  /** Where the server's directory is created (default: the system temp dir), e.g. a small tmpfs. */
  parentDir?: string;
  /** A small footprint: 1 MB WAL segments and 2–8 MB of WAL kept (default: initdb's and the server's defaults). */
  small?: boolean;
  /** Extra environment of the server (pg_ctl start), e.g. a slow disk's LD_PRELOAD (slow-fs.ts). */
  env?: Record<string, string>;
  /** Keep fsync on (default off: most tests stop the server cleanly; a slow-disk test needs the fsyncs). */
  fsync?: boolean;
}

export class PgInstance {
  private constructor(private readonly bin: string, readonly dir: string, readonly port: number, private readonly asPostgres: boolean,
    private readonly small: boolean, private readonly opts: PgInstanceOptions = {}) {}

  static async create(opts: PgInstanceOptions = {}): Promise<PgInstance | null> {
    const bin = await findPgBinDir();
    if (!bin) return null;
    const asPostgres = process.getuid?.() === 0;
    const dir = await fs.mkdtemp(path.join(opts.parentDir ?? os.tmpdir(), 'postlane-pg-'));
    if (asPostgres) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const uid = Number(stdout.trim());
      const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
      await fs.chown(dir, uid, gid);
    }
    const pg = new PgInstance(bin, dir, await freePort(), asPostgres, !!opts.small, opts);
    await pg.exec('initdb', ['-D', pg.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', ...(opts.small ? ['--wal-segsize=1'] : [])]);
    return pg;
  }

  get dataDir(): string { return path.join(this.dir, 'data'); }

  url(database = 'postgres'): string { return `postgres://postgres@127.0.0.1:${this.port}/${database}`; }

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    // fsync off unless asked: this server is stopped cleanly (a fast shutdown writes everything
    // out); what is tested is the relay losing its database, not the machine losing power.
    const small = this.small ? ' -c min_wal_size=2MB -c max_wal_size=8MB' : '';
    const fsync = this.opts.fsync ? 'on' : 'off';
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=${fsync} -c max_connections=40${small}`;
    await this.exec('pg_ctl', ['-D', this.dataDir, '-o', options, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '30', 'start'], this.opts.env);
  }

  /** fast: sessions are terminated (57P01) and the server exits; immediate: it dies without a checkpoint. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.exec('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '30', 'stop']);
  }

  async cleanup(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    await fs.rm(this.dir, { recursive: true, force: true });
  }

  /** `env`: added to the tool's environment (runuser passes it on: it resets only with -l). */
  private async exec(tool: string, args: string[], env: Record<string, string> = {}): Promise<void> {
    const file = path.join(this.bin, tool);
    const [cmd, argv] = this.asPostgres ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    try {
      await run(cmd, argv, { cwd: this.dir, timeout: 60_000, env: { ...process.env, ...env } });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`${tool} failed: ${e.stderr || e.message}`);
    }
  }
}
