// curl as an independent HTTP client for the end-to-end tests: `curl -sS <args>` with the status
// code appended (-w), answered as { status, body }. Tests using it skip without curl
// (skipUnless(TOOLS.curl), require-tool.ts).
import { execFile } from 'node:child_process';
import { TOOLS, toolPath } from './require-tool.js';

export async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const bin = (await toolPath(TOOLS.curl)) ?? 'curl';
  return new Promise((resolve, reject) => {
    execFile(bin, ['-sS', '-w', '\n%{http_code}', ...args], (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl failed: ${stderr || err.message}`));
      const i = stdout.lastIndexOf('\n');
      resolve({ status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) });
    });
  });
}
