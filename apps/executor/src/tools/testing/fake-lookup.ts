import { isIP } from 'node:net';
import type { LookupAll } from '../url-guard';

/** A DNS lookup answering from a table; unknown names fail with ENOTFOUND. Counts its calls. */
export function fakeLookup(table: Record<string, string[]>): LookupAll & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    }
    return addresses.map((address) => ({ address, family: isIP(address) }));
  };
  return Object.assign(lookup, { calls });
}
