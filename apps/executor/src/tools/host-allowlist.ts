/** How a hostname matched an allowlist: by an exact entry, or only by a `*.` wildcard. */
export type HostMatch = 'exact' | 'wildcard' | undefined;

export interface HostAllowlist {
  /** False when no entries were given (every host passes the name check). */
  readonly isSet: boolean;
  /** How `hostname` (as {@link normalizeHostname} returns it) matches. */
  match(hostname: string): HostMatch;
}

/**
 * Canonical form of a hostname for comparisons: the WHATWG host serialisation (lower case,
 * punycode, IPv4 in dotted-quad, IPv6 compressed), without IPv6 brackets and without a trailing
 * dot. Throws a plain Error for something that is not a bare host.
 */
export function normalizeHostname(host: string): string {
  const trimmed = host.trim();
  if (trimmed === '' || /[/?#@\s]/.test(trimmed)) throw new Error(`not a hostname: "${host}"`);
  const bare = trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed;
  let url: URL;
  try {
    url = new URL(bare.includes(':') ? `http://[${bare}]/` : `http://${bare}/`);
  } catch {
    throw new Error(`not a hostname: "${host}"`);
  }
  return hostnameOf(url);
}

/** `url.hostname` without IPv6 brackets or a trailing dot. */
export function hostnameOf(url: URL): string {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/**
 * An allowlist of exact hostnames / IP addresses and `*.example.com` wildcards (which match any
 * name strictly below `example.com`, not `example.com` itself). Throws a plain Error at
 * construction for a malformed entry — a configuration mistake, not a runtime condition.
 */
export function createHostAllowlist(entries: readonly string[] = []): HostAllowlist {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const entry of entries) {
    if (entry.startsWith('*.')) suffixes.push(`.${normalizeHostname(entry.slice(2))}`);
    else if (entry.includes('*'))
      throw new Error(`allowHosts: only a leading "*." is allowed: "${entry}"`);
    else exact.add(normalizeHostname(entry));
  }
  return {
    isSet: exact.size + suffixes.length > 0,
    match(hostname) {
      if (exact.has(hostname)) return 'exact';
      return suffixes.some((s) => hostname.endsWith(s) && hostname.length > s.length)
        ? 'wildcard'
        : undefined;
    },
  };
}
