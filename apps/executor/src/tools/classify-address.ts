import { parseIp } from './ip-address';

/**
 * What an address is for. Only `public` is reachable by default; `allowPrivate` adds the
 * {@link privateRanges}; the rest are never a legitimate destination for a tool call unless the
 * host is explicitly allowlisted.
 */
export type AddressRange =
  | 'public'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'unspecified'
  | 'multicast'
  | 'documentation'
  | 'reserved'
  | 'invalid';

/** Ranges `allowPrivate: true` opens: loopback, RFC 1918 / ULA, and CGNAT shared space. */
export const privateRanges: ReadonlySet<AddressRange> = new Set(['loopback', 'private', 'shared']);

export interface AddressClass {
  range: AddressRange;
  /** How an IPv4 address was wrapped in IPv6, e.g. `IPv4-mapped 127.0.0.1`, when it was. */
  via?: string;
}

type V4Rule = readonly [base: string, prefix: number, range: AddressRange];

// IANA IPv4 Special-Purpose Address Registry, reduced to what matters for egress.
const v4Rules: readonly V4Rule[] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

type V6Rule = readonly [base: string, prefix: number, range: AddressRange];

// Checked after the IPv4-embedding forms; anything outside 2000::/3 not listed is `reserved`.
const v6Rules: readonly V6Rule[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['64:ff9b:1::', 48, 'private'],
  ['100::', 64, 'reserved'],
  ['2001:db8::', 32, 'documentation'],
  ['2001::', 23, 'reserved'],
  ['3fff::', 20, 'documentation'],
  ['fc00::', 7, 'private'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'reserved'],
  ['ff00::', 8, 'multicast'],
  ['2000::', 3, 'public'],
];

/** IPv6 prefixes whose low 32 bits (or, for 6to4, bits 16..47) are an IPv4 destination. */
const embeddings: readonly (readonly [
  base: string,
  prefix: number,
  form: string,
  shift: bigint,
])[] = [
  ['::ffff:0:0', 96, 'IPv4-mapped', 0n],
  ['::ffff:0:0:0', 96, 'IPv4-translated', 0n],
  ['64:ff9b::', 96, 'NAT64', 0n],
  ['2002::', 16, '6to4', 80n],
];

const v4Compiled = v4Rules.map(([base, prefix, range]) => {
  const parsed = parseIp(base);
  if (parsed?.family !== 4) throw new Error(`bad rule ${base}`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: parsed.value, mask, range };
});

function v6Prefix(base: string, prefix: number): { base: bigint; mask: bigint } {
  const parsed = parseIp(base);
  if (parsed?.family !== 6) throw new Error(`bad rule ${base}`);
  const all = (1n << 128n) - 1n;
  return { base: parsed.value, mask: (all >> BigInt(128 - prefix)) << BigInt(128 - prefix) };
}

const v6Compiled = v6Rules.map(([base, prefix, range]) => ({ ...v6Prefix(base, prefix), range }));
const embeddedCompiled = embeddings.map(([base, prefix, form, shift]) => ({
  ...v6Prefix(base, prefix),
  form,
  shift,
}));

function classifyV4(value: number): AddressRange {
  return v4Compiled.find((r) => (value & r.mask) >>> 0 === r.base)?.range ?? 'public';
}

function v4Text(value: number): string {
  return [24, 16, 8, 0].map((s) => (value >>> s) & 0xff).join('.');
}

/**
 * Classify a textual IP address (as returned by DNS, or a URL's bracket-less hostname). IPv6
 * forms that carry an IPv4 destination — IPv4-mapped `::ffff:a.b.c.d` (in any spelling, e.g.
 * `::ffff:7f00:1`), IPv4-translated, deprecated IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`
 * and 6to4 `2002::/16` — are classified by the IPv4 address they carry. Text that is not a
 * strict IP address is `invalid`. Pure; never throws.
 */
export function classifyAddress(address: string): AddressClass {
  const ip = parseIp(address);
  if (!ip) return { range: 'invalid' };
  if (ip.family === 4) return { range: classifyV4(ip.value) };
  const value = ip.value;
  for (const e of embeddedCompiled) {
    if ((value & e.mask) === e.base) {
      const v4 = Number((value >> e.shift) & 0xffffffffn);
      return { range: classifyV4(v4), via: `${e.form} ${v4Text(v4)}` };
    }
  }
  if (value > 1n && value >> 32n === 0n) {
    const v4 = Number(value);
    return { range: classifyV4(v4), via: `IPv4-compatible ${v4Text(v4)}` };
  }
  return { range: v6Compiled.find((r) => (value & r.mask) === r.base)?.range ?? 'reserved' };
}
