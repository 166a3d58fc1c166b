// The running Postlane version, read once from package.json (for --version and the start banner).
import fs from 'node:fs';

export const VERSION: string = (() => {
  try {
    return (JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();
