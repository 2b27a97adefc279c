import { isIPv4, isIPv6 } from 'node:net';

/**
 * The source a per-address limit counts: an IPv4 address (IPv4-mapped IPv6 unwrapped),
 * or an IPv6 address's /64, since one host holds a whole /64 and could otherwise take a
 * fresh bucket per address. Only ever used in memory, under the limiters' HMACs.
 */
export function addressSource(address: string): { source: string; loopback: boolean } {
  let source = address;
  if (source.startsWith('::ffff:') && isIPv4(source.slice(7))) source = source.slice(7);
  if (isIPv4(source)) return { source, loopback: source.startsWith('127.') };
  if (isIPv6(source)) {
    const groups = expandIPv6(source);
    const loopback = groups.every((g, i) => (i < 7 ? g === 0 : g === 1));
    return { source: `${groups.slice(0, 4).join(':')}::/64`, loopback };
  }
  return { source, loopback: false };
}

/** Eight 16-bit groups of an IPv6 address (with '::' expanded; an embedded IPv4 tail read as two). */
function expandIPv6(address: string): number[] {
  let text = address.split('%')[0]!;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = parse(head);
  const t = parse(tail);
  return tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}
