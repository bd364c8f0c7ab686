import { describe, expect, it } from 'vitest';
import { classifyAddress, type AddressRange } from './classify-address';

const cases: ReadonlyArray<readonly [address: string, range: AddressRange, via?: string]> = [
  ['93.184.216.34', 'public'],
  ['8.8.8.8', 'public'],
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['10.0.0.5', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['172.32.0.1', 'public'],
  ['192.168.1.1', 'private'],
  ['100.64.0.1', 'shared'],
  ['100.127.255.255', 'shared'],
  ['100.128.0.1', 'public'],
  ['169.254.169.254', 'link-local'],
  ['192.0.0.8', 'reserved'],
  ['192.0.2.1', 'documentation'],
  ['198.18.0.1', 'reserved'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'reserved'],
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['fc00::1', 'private'],
  ['fd12:3456:789a::1', 'private'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['fec0::1', 'reserved'],
  ['ff02::1', 'multicast'],
  ['2001:db8::1', 'documentation'],
  ['2001::1', 'reserved'],
  ['100::1', 'reserved'],
  ['4000::1', 'reserved'],
  ['2606:4700:4700::1111', 'public'],
  ['::ffff:127.0.0.1', 'loopback', 'IPv4-mapped 127.0.0.1'],
  ['::ffff:7f00:1', 'loopback', 'IPv4-mapped 127.0.0.1'],
  ['0:0:0:0:0:ffff:a9fe:a9fe', 'link-local', 'IPv4-mapped 169.254.169.254'],
  ['::ffff:8.8.8.8', 'public', 'IPv4-mapped 8.8.8.8'],
  ['::ffff:0:10.0.0.1', 'private', 'IPv4-translated 10.0.0.1'],
  ['::127.0.0.1', 'loopback', 'IPv4-compatible 127.0.0.1'],
  ['::a00:5', 'private', 'IPv4-compatible 10.0.0.5'],
  ['64:ff9b::10.0.0.1', 'private', 'NAT64 10.0.0.1'],
  ['64:ff9b::a9fe:a9fe', 'link-local', 'NAT64 169.254.169.254'],
  ['64:ff9b::808:808', 'public', 'NAT64 8.8.8.8'],
  ['64:ff9b:1::1', 'private'],
  ['2002:7f00:1::', 'loopback', '6to4 127.0.0.1'],
  ['2002:a9fe:a9fe::1', 'link-local', '6to4 169.254.169.254'],
  // Not strict IP text: never treated as an address.
  ['2130706433', 'invalid'],
  ['0x7f000001', 'invalid'],
  ['0177.0.0.1', 'invalid'],
  ['127.1', 'invalid'],
  ['[::1]', 'invalid'],
  ['localhost', 'invalid'],
  ['', 'invalid'],
];

describe('classifyAddress', () => {
  const table = cases.map(([address, range, via]) => [address, range, via ?? ''] as const);
  it.each(table)('%s is %s', (address, range, via) => {
    const result = classifyAddress(address);
    expect(result.range).toBe(range);
    if (via !== '') expect(result.via).toBe(via);
  });
});
