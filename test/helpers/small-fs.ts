// A small real filesystem for disk-full tests: a tmpfs of a few MB mounted on a temp directory
// (mounting needs root), filled to the last byte by a filler file and freed again by removing it.
// Not root: `smallFsSkip` says why the test is skipped; under CI (CI=true) it is not skipped, so
// the missing privilege fails the test instead of hiding it.
//
//   const fs = await SmallFs.mount(16);   // MiB
//   await fs.fill();  …disk full…  await fs.free();  await fs.cleanup();
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const smallFsSkip: string | false = process.getuid?.() !== 0 && process.env.CI !== 'true'
  && 'mounting a small tmpfs needs root (run as root to test a real full disk)';

export class SmallFs {
  private constructor(readonly dir: string) {}

  static async mount(sizeMiB: number): Promise<SmallFs> {
    if (process.getuid?.() !== 0) throw new Error('mounting a small tmpfs needs root');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-smallfs-'));
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'tmpfs', dir]);
    return new SmallFs(dir);
  }

  get filler(): string { return path.join(this.dir, 'filler'); }

  /** Bytes left for writing (statfs bavail). */
  async freeBytes(): Promise<number> {
    const s = await fs.statfs(this.dir);
    return s.bavail * s.bsize;
  }

  /** Appends to the filler file until the filesystem refuses a single byte more (ENOSPC). */
  async fill(): Promise<void> {
    const fh = await fs.open(this.filler, 'a');
    try {
      for (const size of [1 << 20, 1 << 16, 4096, 512, 1]) {
        const chunk = Buffer.alloc(size, 0x78);
        for (;;) {
          try { await fh.write(chunk); } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw err;
          }
        }
      }
    } finally {
      await fh.close();
    }
  }

  /** Removes the filler: the space is back. */
  async free(): Promise<void> { await fs.rm(this.filler, { force: true }); }

  /** Unmounts (lazily: a process still holding a file there does not block it) and removes the mount point. */
  async cleanup(): Promise<void> {
    await run('umount', ['-l', this.dir]).catch(() => undefined);
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
