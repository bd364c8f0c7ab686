import { isIP } from 'node:net';

/** An IP address as numbers: IPv4 as one unsigned 32-bit value, IPv6 as one 128-bit bigint. */
export type ParsedIp = { family: 4; value: number } | { family: 6; value: bigint };

/**
 * Parse a textual IP address in the strict forms `net.isIP` accepts: dotted-quad IPv4 (no octal,
 * hex, short or decimal forms — those are not addresses here, and WHATWG `URL` has already turned
 * them into dotted quads in a URL's hostname) and IPv6 (with or without an embedded dotted quad,
 * an optional `%zone` is ignored, brackets are not accepted). Returns `undefined` for anything
 * else. Never throws.
 */
export function parseIp(text: string): ParsedIp | undefined {
  const address = text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
  switch (isIP(address)) {
    case 4:
      return { family: 4, value: parseIPv4(address) };
    case 6:
      return { family: 6, value: parseIPv6(address) };
    default:
      return undefined;
  }
}

function parseIPv4(address: string): number {
  return address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0) >>> 0;
}

function parseIPv6(address: string): bigint {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIPv4(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [left = '', right] = text.split('::');
  const head = left === '' ? [] : left.split(':');
  const rest = right === undefined ? [] : right === '' ? [] : right.split(':');
  const zeros = right === undefined ? [] : Array<string>(8 - head.length - rest.length).fill('0');
  return [...head, ...zeros, ...rest].reduce(
    (acc, word) => (acc << 16n) | BigInt(parseInt(word, 16)),
    0n,
  );
}
