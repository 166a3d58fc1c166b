// Owns what counts as one client address for the per-client limits: the SMTP AUTH and dashboard
// login failure counts (ingress/smtp/auth-limiter.ts), the API's failed-authentication throttle
// (http/api-auth-throttle.ts) and the connection caps of every listener (net/connection-limits.ts).
// One host is given a whole IPv6 /64 (SLAAC, privacy addresses: 2^64 addresses to rotate through),
// so an IPv6 client is its /64; an IPv4-mapped IPv6 address is the IPv4 address it carries.

/** IPv4 as is (also when IPv4-mapped), IPv6 reduced to its /64 (`2001:db8:1:2::/64`). */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  return expandIPv6(ip).slice(0, 4).join(':') + '::/64';
}

function expandIPv6(ip: string): string[] {
  const [head, tail] = ip.split('%')[0]!.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...zeros, ...right].map((g) => (g.includes('.') ? g : parseInt(g, 16).toString(16)));
}
