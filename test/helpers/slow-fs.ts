// A slow disk for tests: test/helpers/slow-fs.c, an LD_PRELOAD library that delays fsync and
// fdatasync (and optionally write/pwrite) of files under one directory by the milliseconds in a
// control file, read at every call, so a test makes the disk slow and fast again while the process
// runs; it can also make the syncs of some files fail with EIO (a failing disk). Built with gcc
// on first use and cached in the OS temp dir under the source's hash. No root needed; gcc is a
// tool like the others (require-tool.ts: skipped when missing, a failure under CI).
//
//   const disk = await SlowFs.create();                   // an empty directory, fast
//   spawn(..., { env: { ...process.env, ...disk.env } })  // the process whose files live in disk.dir
//   await disk.set(300); … await disk.set(3000); … await disk.set(0);
//   await disk.set({ syncMs: 0, failSyncOf: '-wal' })    // fsync of *-wal fails with EIO
//   await disk.delayedCalls()                             // the calls it really slowed (proof it applied)
//   await disk.cleanup();
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const SOURCE = path.join(ROOT, 'test/helpers/slow-fs.c');

let built: Promise<string> | null = null;

/** The path of the compiled library (built once per source version, shared by processes). */
export function buildSlowFsLibrary(gcc = 'gcc'): Promise<string> {
  built ??= (async () => {
    const source = await fs.readFile(SOURCE);
    const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
    const lib = path.join(os.tmpdir(), `postlane-slowfs-${hash}.so`);
    try { await fs.access(lib); return lib; } catch { /* build it */ }
    const tmp = `${lib}.${process.pid}.tmp`;
    await run(gcc, ['-shared', '-fPIC', '-O2', '-Wall', '-o', tmp, SOURCE, '-ldl']);
    await fs.chmod(tmp, 0o755); // the PostgreSQL server runs as `postgres` when the tests run as root
    await fs.rename(tmp, lib); // atomic: a concurrent test sees a whole library or none
    return lib;
  })();
  return built;
}

/** `failSyncOf`: syncs of files whose path ends so fail with EIO, without syncing (e.g. '-wal'). */
export interface SlowFsDelays { syncMs: number; writeMs?: number; failSyncOf?: string }

export class SlowFs {
  private constructor(readonly dir: string, readonly ctl: string, readonly log: string, readonly library: string) {}

  /** An empty directory (fast until set()), world-readable so a server running as another user can use it. */
  static async create(gcc?: string): Promise<SlowFs> {
    const library = await buildSlowFsLibrary(gcc);
    const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-slowfs-')));
    await fs.chmod(root, 0o755);
    const dir = path.join(root, 'disk');
    await fs.mkdir(dir, { mode: 0o777 });
    await fs.chmod(dir, 0o777);
    const disk = new SlowFs(dir, path.join(root, 'ctl'), path.join(root, 'calls.log'), library);
    await disk.set(0);
    await fs.writeFile(disk.log, '', { mode: 0o666 });
    await fs.chmod(disk.log, 0o666);
    return disk;
  }

  /** The environment that makes a process's files under `dir` slow. */
  get env(): Record<string, string> {
    return { LD_PRELOAD: this.library, SLOWFS_DIR: this.dir, SLOWFS_CTL: this.ctl, SLOWFS_LOG: this.log };
  }

  /** Every fsync/fdatasync from now on takes `syncMs` more (write/pwrite `writeMs`); 0: fast again. */
  async set(delays: number | SlowFsDelays): Promise<void> {
    const d = typeof delays === 'number' ? { syncMs: delays } : delays;
    const tmp = `${this.ctl}.tmp`;
    if (d.failSyncOf !== undefined && !/^\S{1,63}$/.test(d.failSyncOf)) throw new Error(`failSyncOf must be 1-63 characters without spaces: ${d.failSyncOf}`);
    await fs.writeFile(tmp, `${d.syncMs} ${d.writeMs ?? 0}${d.failSyncOf ? ` ${d.failSyncOf}` : ''}\n`, { mode: 0o644 });
    await fs.rename(tmp, this.ctl); // a reader sees the old or the new delays, never half a file
  }

  /** The calls the library delayed (or failed: call "fsync-eio", delay 0) so far: pid, call name, delay. */
  async delayedCalls(): Promise<{ pid: number; call: string; ms: number }[]> {
    const text = await fs.readFile(this.log, 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean).map((line) => {
      const [pid, call, ms] = line.split(' ');
      return { pid: Number(pid), call: call!, ms: Number(ms) };
    });
  }

  async cleanup(): Promise<void> {
    await fs.rm(path.dirname(this.dir), { recursive: true, force: true });
  }
}
