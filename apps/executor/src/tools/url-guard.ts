import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AppError, toError } from '@agentry/schema';
import { untilAborted } from './abort-error';
import { classifyAddress, privateRanges } from './classify-address';
import { displayUrl } from './display-url';
import { createHostAllowlist, hostnameOf } from './host-allowlist';

/** `dns.promises.lookup(hostname, { all: true })`, or a fake of it in tests. */
export type LookupAll = (
  hostname: string,
  options: { all: true },
) => Promise<ReadonlyArray<{ address: string; family: number }>>;

export interface UrlGuardOptions {
  /**
   * Exact hostnames / IP addresses and `*.example.com` wildcards. When set, every other host is
   * refused (before any DNS query). An exact entry also lifts the address checks for that host;
   * a wildcard entry does not.
   */
  allowHosts?: readonly string[];
  /** Let non-allowlisted hosts reach loopback, RFC 1918 / ULA and CGNAT addresses. @default false */
  allowPrivate?: boolean;
  /** Ports that may be used (the scheme's default port counts). @default any port */
  allowedPorts?: readonly number[];
  /** @default dns.promises.lookup */
  lookup?: LookupAll;
}

/** A URL that passed the guard, with the one address the caller must connect to. */
export interface VettedUrl {
  url: URL;
  /** IP address to connect to; send `url.host` as Host and `url.hostname` as SNI. */
  address: string;
  family: 4 | 6;
}

export interface UrlGuard {
  /**
   * Vet a URL before a request is sent to it (and again for every redirect hop). Throws
   * `AppError('POLICY_DENIED')` with `details: { url, reason }` (credentials removed from the url)
   * for: a scheme other than http/https; credentials in the URL; a port not allowed; a host not on
   * the allowlist; and — unless the host is an exact allowlist entry — any address the name
   * resolves to that is not public (see {@link classifyAddress}; `allowPrivate` opens loopback,
   * private and CGNAT ranges only). Every resolved address is checked, and the first one is
   * returned so the caller connects to exactly what was vetted (no second DNS lookup, hence no
   * DNS-rebinding window). A DNS failure is `TRANSIENT` (`TOOL_FAILED`, not retried, for a name
   * that does not exist); an aborted `signal` rejects at once with `TIMEOUT` / `CANCELLED`.
   */
  check(url: string | URL, options?: { signal?: AbortSignal }): Promise<VettedUrl>;
}

const defaultLookup: LookupAll = (hostname, options) => dnsLookup(hostname, options);

/** Build the SSRF guard every outbound tool request goes through. Throws on a malformed allowlist. */
export function createUrlGuard(options: UrlGuardOptions = {}): UrlGuard {
  const allowlist = createHostAllowlist(options.allowHosts);
  const allowedPorts = options.allowedPorts ? new Set(options.allowedPorts) : undefined;
  const lookup = options.lookup ?? defaultLookup;
  const allowPrivate = options.allowPrivate ?? false;

  function vetAddress(address: string, hostname: string, url: URL): 4 | 6 {
    const family = isIP(address);
    if (family !== 4 && family !== 6) deny(url, `${hostname} resolved to a non-IP address`);
    const { range, via } = classifyAddress(address);
    if (range === 'public' || (allowPrivate && privateRanges.has(range))) return family;
    const what = via ? `${address} (${via})` : address;
    deny(url, `${hostname} resolves to ${range} address ${what}`);
  }

  return {
    async check(input, { signal } = {}) {
      const url = parseUrl(input);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        deny(url, `scheme ${url.protocol} is not allowed (http and https only)`);
      }
      if (url.username !== '' || url.password !== '')
        deny(url, 'credentials in URLs are not allowed');
      const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
      if (allowedPorts && !allowedPorts.has(port)) deny(url, `port ${port} is not allowed`);

      const hostname = hostnameOf(url);
      const match = allowlist.match(hostname);
      const trusted = match === 'exact';
      const literal = isIP(hostname);
      if (literal === 4 || literal === 6) {
        // Vet the address first so the reason names its range, not just the allowlist.
        const family = trusted ? literal : vetAddress(hostname, hostname, url);
        if (allowlist.isSet && !match) deny(url, `host ${hostname} is not on the allowlist`);
        return { url, address: hostname, family };
      }
      if (allowlist.isSet && !match) deny(url, `host ${hostname} is not on the allowlist`);

      const addresses = await resolve(lookup, hostname, url, signal);
      const vetted = addresses.map((a) => ({
        address: a.address,
        family: trusted ? familyOf(a.address, hostname, url) : vetAddress(a.address, hostname, url),
      }));
      const first = vetted[0];
      if (!first) deny(url, `${hostname} resolved to no address`);
      return { url, address: first.address, family: first.family };
    },
  };
}

function familyOf(address: string, hostname: string, url: URL): 4 | 6 {
  const family = isIP(address);
  if (family !== 4 && family !== 6) deny(url, `${hostname} resolved to a non-IP address`);
  return family;
}

async function resolve(
  lookup: LookupAll,
  hostname: string,
  url: URL,
  signal: AbortSignal | undefined,
): Promise<ReadonlyArray<{ address: string; family: number }>> {
  const pending = lookup(hostname, { all: true });
  try {
    return await (signal ? untilAborted(pending, signal) : pending);
  } catch (e) {
    const error = toError(e);
    if (signal?.aborted) throw error; // already the TIMEOUT / CANCELLED AppError
    const code = (error as NodeJS.ErrnoException).code;
    const details = { url: displayUrl(url), hostname, code };
    if (code === 'ENOTFOUND' || code === 'ENODATA') {
      throw new AppError('TOOL_FAILED', `cannot resolve ${hostname}`, {
        cause: error,
        details,
        retryable: false,
      });
    }
    throw new AppError('TRANSIENT', `DNS lookup of ${hostname} failed`, { cause: error, details });
  }
}

function parseUrl(input: string | URL): URL {
  try {
    return new URL(input);
  } catch (e) {
    throw new AppError('POLICY_DENIED', 'invalid URL', {
      cause: toError(e),
      details: { url: '[invalid url]', reason: 'invalid URL' },
    });
  }
}

function deny(url: URL, reason: string): never {
  throw new AppError('POLICY_DENIED', reason, {
    details: { url: displayUrl(url), reason },
  });
}
