// DKIM and ARC with an independent implementation: Debian's python3-dkim (dkimpy), run by
// /usr/bin/python3 (the Debian interpreter, where the package is installed), looking keys up in
// the test DNS server through dnspython. Tests call requireTools(t, TOOLS.pythonDkim) (or
// skipUnless) first: under CI a missing python3-dkim fails the run.
import { execFile } from 'node:child_process';
import { DEBIAN_PYTHON } from './require-tool.js';

export const PYTHON = DEBIAN_PYTHON;

/** A dnsfunc for dkimpy answering TXT lookups from the test DNS server on 127.0.0.1:argv[1]. */
const PY_DNS = `
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
`;

/** dkimpy verifying signature `idx` of the message on stdin (argv: dns port, signature count). */
const PY_VERIFY = `${PY_DNS}
def verify(d, i):
    try:
        return d.verify(idx=i, dnsfunc=dnsfunc)
    except dkim.ValidationError:  # e.g. body hash mismatch
        return False
msg = sys.stdin.buffer.read()
d = dkim.DKIM(msg)
print(' '.join('pass' if verify(d, i) else 'fail' for i in range(int(sys.argv[2]))))
`;

/** ARC-seals the message on stdin as one more hop (argv: dns port unused, selector, domain, key file, authserv-id). */
const PY_ARC_SIGN = `
import sys, dkim
msg = sys.stdin.buffer.read()
key = open(sys.argv[4], 'rb').read()
headers = dkim.arc_sign(msg, sys.argv[2].encode(), sys.argv[3].encode(), key, sys.argv[5].encode(),
                        include_headers=[b'from', b'to', b'subject', b'date', b'message-id'])
if not headers:
    sys.exit('arc_sign produced no headers (no Authentication-Results for the authserv-id?)')
sys.stdout.buffer.write(b''.join(headers) + msg)
`;

/** Signs the message on stdin with DKIM (argv: selector, domain, key file); prints the signed message. */
const PY_SIGN = `
import sys, dkim
msg = sys.stdin.buffer.read()
key = open(sys.argv[3], 'rb').read()
sig = dkim.sign(msg, sys.argv[1].encode(), sys.argv[2].encode(), key,
                include_headers=[b'from', b'to', b'subject', b'date', b'message-id'])
sys.stdout.buffer.write(sig + msg)
`;

/** dkimpy's verdict on the ARC chain of the message on stdin: pass / fail / none. */
const PY_ARC_VERIFY = `${PY_DNS}
msg = sys.stdin.buffer.read()
cv, results, reason = dkim.arc_verify(msg, dnsfunc=dnsfunc)
print(cv.decode() + ' ' + (reason or ''))
`;

function runPython(script: string, args: string[], input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = execFile(PYTHON, ['-c', script, ...args], { encoding: 'buffer', timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`python3-dkim failed: ${stderr.toString() || err.message}`));
      resolve(stdout);
    });
    p.stdin!.end(input);
  });
}

/** dkimpy's verdict ('pass' / 'fail') on each of the first `signatures` DKIM-Signature fields. */
export async function pythonVerify(port: number, message: Buffer, signatures: number): Promise<string[]> {
  return (await runPython(PY_VERIFY, [String(port), String(signatures)], message)).toString().trim().split(' ');
}

/**
 * The message with one ARC set (ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results)
 * prepended by dkimpy. The message must carry an Authentication-Results header of `authservId`.
 */
export function pythonArcSign(message: Buffer, o: { selector: string; domain: string; keyFile: string; authservId: string }): Promise<Buffer> {
  return runPython(PY_ARC_SIGN, ['0', o.selector, o.domain, o.keyFile, o.authservId], message);
}

/** The message with a DKIM-Signature (rsa-sha256, relaxed/simple) made by dkimpy. */
export function pythonDkimSign(message: Buffer, o: { selector: string; domain: string; keyFile: string }): Promise<Buffer> {
  return runPython(PY_SIGN, [o.selector, o.domain, o.keyFile], message);
}

/** dkimpy's ARC chain validation: 'pass', 'fail' or 'none', with its reason. */
export async function pythonArcVerify(port: number, message: Buffer): Promise<{ cv: string; reason: string }> {
  const [cv, ...reason] = (await runPython(PY_ARC_VERIFY, [String(port)], message)).toString().trim().split(' ');
  return { cv: cv!, reason: reason.join(' ') };
}
