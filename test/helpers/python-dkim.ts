// Verifies DKIM signatures with an independent implementation: Debian's python3-dkim (dkimpy),
// run by /usr/bin/python3 (the Debian interpreter, where the package is installed), looking keys up
// in the test DNS server through dnspython.
import { execFile, execFileSync } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

/** dkimpy verifying signature `idx` of the message on stdin, looking keys up in the test DNS server. */
const PY_VERIFY = `
import sys, dkim, dns.resolver
r = dns.resolver.Resolver(configure=False)
r.nameservers = ['127.0.0.1']
r.port = int(sys.argv[1])
def dnsfunc(name, timeout=5):
    try:
        a = r.resolve(name.decode() if isinstance(name, bytes) else name, 'TXT', lifetime=timeout)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    return b''.join(a[0].strings)
def verify(d, i):
    try:
        return d.verify(idx=i, dnsfunc=dnsfunc)
    except dkim.ValidationError:  # e.g. body hash mismatch
        return False
msg = sys.stdin.buffer.read()
d = dkim.DKIM(msg)
print(' '.join('pass' if verify(d, i) else 'fail' for i in range(int(sys.argv[2]))))
`;

export function hasPythonDkim(): boolean {
  try { execFileSync(PYTHON, ['-c', 'import dkim, dns.resolver'], { stdio: 'ignore' }); return true; } catch { return false; }
}

export function pythonVerify(port: number, message: Buffer, signatures: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const p = execFile(PYTHON, ['-c', PY_VERIFY, String(port), String(signatures)], (err, stdout, stderr) => {
      if (err) return reject(new Error(`python3-dkim failed: ${stderr || err.message}`));
      resolve(stdout.trim().split(' '));
    });
    p.stdin!.end(message);
  });
}

