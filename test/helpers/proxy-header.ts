// Builds PROXY protocol headers (v1 text, v2 binary) the way a load balancer sends them, written
// from HAProxy's proxy-protocol.txt independently of src/ingress/smtp/proxy-protocol.ts.
import net from 'node:net';

export const proxyV1 = (src: string, sport: number, dst = '127.0.0.1', dport = 25): string =>
  `PROXY ${net.isIPv6(src) ? 'TCP6' : 'TCP4'} ${src} ${dst} ${sport} ${dport}\r\n`;

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

export interface V2Options {
  command?: 'PROXY' | 'LOCAL';
  source?: { address: string; port: number };
  destination?: { address: string; port: number };
  /** TLVs appended after the addresses: [type, value]. */
  tlvs?: [number, Buffer][];
  /** Overrides the family/transport byte (0x11 TCP4, 0x21 TCP6, 0x00 UNSPEC ...). */
  famProto?: number;
}

export function proxyV2(o: V2Options = {}): Buffer {
  const command = o.command ?? 'PROXY';
  const src = o.source ?? { address: '203.0.113.7', port: 40000 };
  const dst = o.destination ?? { address: net.isIPv6(src.address) ? '::1' : '127.0.0.1', port: 25 };
  const v6 = net.isIPv6(src.address);
  const addr = Buffer.concat([ipBytes(src.address), ipBytes(dst.address), u16(src.port), u16(dst.port)]);
  const tlvs = Buffer.concat((o.tlvs ?? []).map(([type, value]) => Buffer.concat([Buffer.from([type]), u16(value.length), value])));
  const body = Buffer.concat([command === 'LOCAL' && o.famProto === 0 ? Buffer.alloc(0) : addr, tlvs]);
  const famProto = o.famProto ?? (v6 ? 0x21 : 0x11);
  return Buffer.concat([SIGNATURE, Buffer.from([command === 'LOCAL' ? 0x20 : 0x21, famProto]), u16(body.length), body]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.concat(groups.map((g) => u16(parseInt(g, 16))));
}
