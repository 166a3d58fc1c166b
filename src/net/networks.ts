// IP network matching shared by the stages: relayNetworks and PROXY-protocol trust (ingress), and
// the webhook destination guard (events). One BlockList per list, built once.
import net from 'node:net';

/** A predicate for "this IP is in one of these CIDRs" (a bare IP is a /32 or /128). */
export function networkMatcher(cidrs: readonly string[]): (ip: string) => boolean {
  if (cidrs.length === 0) return () => false;
  const list = new net.BlockList();
  // IPv4 networks also as numbers: BlockList.check builds a SocketAddress per call (1.2 % of the
  // main thread on workload i, one relayNetworks check per connection); an IPv4 address in one of
  // them is answered with integer masks, anything else by the BlockList (IPv6 rules may match IPv4).
  const v4: { network: number; mask: number }[] = [];
  let onlyV4 = true;
  for (const cidr of cidrs) {
    const [addr = '', bits] = cidr.split('/');
    const type = net.isIPv6(addr) ? 'ipv6' : 'ipv4';
    const prefix = bits === undefined ? (type === 'ipv6' ? 128 : 32) : Number(bits);
    list.addSubnet(addr, prefix, type);
    if (type === 'ipv6') { onlyV4 = false; continue; }
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    v4.push({ network: (ipv4Number(addr) & mask) >>> 0, mask });
  }
  return (ip) => {
    if (net.isIPv4(ip)) {
      const n = ipv4Number(ip);
      for (const { network, mask } of v4) if (((n & mask) >>> 0) === network) return true;
      return !onlyV4 && list.check(ip, 'ipv4');
    }
    return net.isIPv6(ip) && list.check(ip, 'ipv6');
  };
}

/** A dotted IPv4 address (as net.isIPv4 accepts it: four decimal octets) as an unsigned 32-bit number. */
function ipv4Number(ip: string): number {
  let n = 0;
  let octet = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x2e) { n = n * 256 + octet; octet = 0; } else octet = octet * 10 + (c - 0x30);
  }
  return n * 256 + octet;
}

/**
 * Addresses that are not on the public internet: this host, private networks, link-local (cloud
 * metadata at 169.254.169.254), carrier-grade NAT, benchmarking, documentation, multicast and
 * reserved ranges (IANA special-purpose registries). IPv6 is public only inside global unicast
 * 2000::/3, less the non-global blocks in it.
 */
const NON_PUBLIC_V4 = networkMatcher([
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24',
  '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
]);
const GLOBAL_UNICAST_V6 = networkMatcher(['2000::/3']);
const NON_PUBLIC_V6 = networkMatcher([
  '2001:2::/48', '2001:10::/28', '2001:db8::/32', '3fff::/20', // benchmarking, ORCHID, documentation
]);

/**
 * True when `ip` is a literal address on the public internet. An IPv6 address that carries an IPv4
 * address (embeddedIpv4) is judged by that address: reaching it reaches the IPv4 host (through the
 * kernel, a NAT64 gateway, a 6to4 or Teredo relay), so ::ffff:127.0.0.1, [::127.0.0.1] or
 * 2002:7f00:1:: are loopback, not public.
 */
export function isPublicAddress(ip: string): boolean {
  if (net.isIPv4(ip)) return !NON_PUBLIC_V4(ip);
  if (!net.isIPv6(ip)) return false;
  const embedded = embeddedIpv4(ip);
  if (embedded.length > 0) return embedded.every((v4) => !NON_PUBLIC_V4(v4));
  const bare = ip.replace(/%.*$/, ''); // a zone id (fe80::1%eth0) is not part of the address
  return GLOBAL_UNICAST_V6(bare) && !NON_PUBLIC_V6(bare);
}

/**
 * The IPv4 addresses inside an IPv6 address, by its form; [] for a plain IPv6 address:
 * - ::a.b.c.d (IPv4-compatible, ::/96, deprecated; includes :: = 0.0.0.0 and ::1 = 0.0.0.1),
 *   ::ffff:a.b.c.d (IPv4-mapped) and ::ffff:0:a.b.c.d (IPv4-translated, SIIT): the last 32 bits;
 * - 64:ff9b::a.b.c.d (NAT64 well-known prefix, RFC 6052): the last 32 bits;
 * - 2002:aabb:ccdd:: (6to4, RFC 3056): bits 16-47;
 * - 2001:0:ssss:ssss:…:cccc:cccc (Teredo, RFC 4380): the server in bits 32-63 and the client, bit-inverted, in the last 32.
 * 64:ff9b:1::/48 (local-use NAT64, RFC 8215) has no fixed layout; it is outside 2000::/3, so never public.
 */
export function embeddedIpv4(ip: string): string[] {
  if (!net.isIPv6(ip)) return [];
  const g = expandIpv6(ip);
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const last32 = () => [v4(g[6]!, g[7]!)];
  if (zero(0, 6)) return last32();
  if (zero(0, 5) && g[5] === 0xffff) return last32();
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) return last32();
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return last32();
  if (g[0] === 0x2002) return [v4(g[1]!, g[2]!)];
  if (g[0] === 0x2001 && g[1] === 0) return [v4(g[2]!, g[3]!), v4(g[6]! ^ 0xffff, g[7]! ^ 0xffff)];
  return [];
}

const v4 = (hi: number, lo: number) => [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');

/** The eight 16-bit groups of a valid IPv6 address (a trailing dotted IPv4 becomes two groups). */
function expandIpv6(ip: string): number[] {
  let s = ip.replace(/%.*$/, ''); // a zone id is not part of the address
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    s = s.slice(0, dotted.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...zeros, ...t].map((g) => parseInt(g, 16));
}

/**
 * Private networks an organisation's own servers live on: RFC 1918, carrier-grade NAT (RFC 6598)
 * and IPv6 unique local addresses (RFC 4193). Every other non-public address is special: this host
 * (loopback), unspecified, link-local (cloud metadata), multicast, documentation, reserved.
 */
const PRIVATE_V4 = networkMatcher(['10.0.0.0/8', '100.64.0.0/10', '172.16.0.0/12', '192.168.0.0/16']);
const PRIVATE_V6 = networkMatcher(['fc00::/7']);

/** How far from the public internet an address is: 'public', 'private' (an organisation's network), 'special' (anything else). */
export type AddressScope = 'public' | 'private' | 'special';

/**
 * The scope of a literal address (not an address: 'special'). An IPv6 address carrying an IPv4
 * address (embeddedIpv4) has the scope of that address, its widest-reaching one winning:
 * ::ffff:127.0.0.1 is special, ::ffff:10.0.0.1 private.
 */
export function addressScope(ip: string): AddressScope {
  if (isPublicAddress(ip)) return 'public';
  if (net.isIPv4(ip)) return PRIVATE_V4(ip) ? 'private' : 'special';
  if (!net.isIPv6(ip)) return 'special';
  const embedded = embeddedIpv4(ip);
  if (embedded.length > 0) return embedded.every((v4) => isPublicAddress(v4) || PRIVATE_V4(v4)) ? 'private' : 'special';
  return PRIVATE_V6(ip.replace(/%.*$/, '')) ? 'private' : 'special';
}
