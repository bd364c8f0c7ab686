import { isAppError } from '@agentry/schema';
import { describe, expect, it } from 'vitest';
import { fakeLookup } from './testing/fake-lookup';
import { createUrlGuard, type UrlGuardOptions } from './url-guard';

const dns = {
  'example.test': ['93.184.216.34'],
  'dual.test': ['2606:4700:4700::1111', '93.184.216.34'],
  'evil.test': ['10.0.0.5'],
  'mixed.test': ['93.184.216.34', '10.0.0.5'],
  'mixed6.test': ['2606:4700:4700::1111', 'fd00::5'],
  'mapped.test': ['::ffff:127.0.0.1'],
  'metadata.test': ['169.254.169.254'],
  'nat64.test': ['64:ff9b::a00:5'],
  'decimal.test': ['2130706433'],
  localhost: ['127.0.0.1', '::1'],
  'api.example.com': ['10.0.0.7'],
  'svc.corp.test': ['10.0.0.8'],
  'web.corp.test': ['93.184.216.35'],
  'cgnat.test': ['100.64.1.1'],
};

async function outcome(options: Omit<UrlGuardOptions, 'lookup'>, url: string): Promise<string> {
  const guard = createUrlGuard({ ...options, lookup: fakeLookup(dns) });
  try {
    const vetted = await guard.check(url);
    return `allow ${vetted.address}`;
  } catch (e) {
    if (isAppError(e) && e.code === 'POLICY_DENIED') return 'deny';
    throw e;
  }
}

const open: Omit<UrlGuardOptions, 'lookup'> = {};

// [url, expected] for a guard with no allowlist and allowPrivate: false.
const defaultCases: ReadonlyArray<readonly [string, string]> = [
  ['http://93.184.216.34/', 'allow 93.184.216.34'],
  ['https://example.test/path?q=1', 'allow 93.184.216.34'],
  ['http://example.test./', 'allow 93.184.216.34'],
  ['http://dual.test/', 'allow 2606:4700:4700::1111'],
  ['http://[2606:4700:4700::1111]:8080/', 'allow 2606:4700:4700::1111'],
  ['http://[::ffff:8.8.8.8]/', 'allow ::ffff:808:808'],
  // schemes and credentials
  ['ftp://example.test/', 'deny'],
  ['file:///etc/passwd', 'deny'],
  ['gopher://example.test/', 'deny'],
  ['javascript:alert(1)', 'deny'],
  ['http://user:pw@example.test/', 'deny'],
  ['http://user@example.test/', 'deny'],
  ['not a url', 'deny'],
  // loopback, unspecified
  ['http://127.0.0.1/', 'deny'],
  ['http://127.9.9.9:8080/', 'deny'],
  ['http://localhost/', 'deny'],
  ['http://[::1]/', 'deny'],
  ['http://[0:0:0:0:0:0:0:1]/', 'deny'],
  ['http://0.0.0.0/', 'deny'],
  ['http://0/', 'deny'],
  ['http://[::]/', 'deny'],
  // private, shared, link-local, multicast, reserved
  ['http://10.0.0.1/', 'deny'],
  ['http://172.16.0.1/', 'deny'],
  ['http://172.31.255.255/', 'deny'],
  ['http://192.168.0.1/', 'deny'],
  ['http://100.64.0.1/', 'deny'],
  ['http://169.254.169.254/latest/meta-data/', 'deny'],
  ['http://[fc00::1]/', 'deny'],
  ['http://[fd00::1]/', 'deny'],
  ['http://[fe80::1]/', 'deny'],
  ['http://224.0.0.1/', 'deny'],
  ['http://[ff02::1]/', 'deny'],
  ['http://240.0.0.1/', 'deny'],
  ['http://255.255.255.255/', 'deny'],
  ['http://192.0.2.1/', 'deny'],
  ['http://[2001:db8::1]/', 'deny'],
  // IPv4 inside IPv6
  ['http://[::ffff:127.0.0.1]/', 'deny'],
  ['http://[::ffff:7f00:1]/', 'deny'],
  ['http://[::ffff:169.254.169.254]/', 'deny'],
  ['http://[::ffff:a00:1]/', 'deny'],
  ['http://[::ffff:0:127.0.0.1]/', 'deny'],
  ['http://[::127.0.0.1]/', 'deny'],
  ['http://[::7f00:1]/', 'deny'],
  ['http://[64:ff9b::10.0.0.1]/', 'deny'],
  ['http://[64:ff9b::a9fe:a9fe]/', 'deny'],
  ['http://[64:ff9b:1::1]/', 'deny'],
  ['http://[2002:7f00:1::]/', 'deny'],
  // encoded IPv4 (WHATWG URL turns each into 127.0.0.1 before we look)
  ['http://2130706433/', 'deny'],
  ['http://0x7f000001/', 'deny'],
  ['http://0177.0.0.1/', 'deny'],
  ['http://017700000001/', 'deny'],
  ['http://127.1/', 'deny'],
  ['http://0x7f.1/', 'deny'],
  ['http://127.0.0.1./', 'deny'],
  ['http://%31%32%37.0.0.1/', 'deny'],
  ['http://0xa9.0xfe.0xa9.0xfe/', 'deny'],
  ['http://2852039166/', 'deny'],
  // names that resolve to forbidden addresses: every address is checked
  ['http://evil.test/', 'deny'],
  ['http://mixed.test/', 'deny'],
  ['http://mixed6.test/', 'deny'],
  ['http://mapped.test/', 'deny'],
  ['http://metadata.test/', 'deny'],
  ['http://nat64.test/', 'deny'],
  ['http://decimal.test/', 'deny'],
  ['http://cgnat.test/', 'deny'],
];

const allowlisted: Omit<UrlGuardOptions, 'lookup'> = {
  allowHosts: ['api.example.com', '*.corp.test', '127.0.0.1', '::1'],
};
const allowlistCases: ReadonlyArray<readonly [string, string]> = [
  ['http://api.example.com/', 'allow 10.0.0.7'], // exact entry lifts the address checks
  ['http://API.Example.COM./', 'allow 10.0.0.7'],
  ['http://127.0.0.1:8080/', 'allow 127.0.0.1'],
  ['http://[::1]:8080/', 'allow ::1'],
  ['http://web.corp.test/', 'allow 93.184.216.35'],
  ['http://svc.corp.test/', 'deny'], // a wildcard does not lift them
  ['http://corp.test/', 'deny'], // a wildcard does not match its apex
  ['http://example.test/', 'deny'],
  ['http://93.184.216.34/', 'deny'],
  ['http://[::ffff:127.0.0.1]/', 'deny'],
  ['http://2130706433/', 'allow 127.0.0.1'], // is 127.0.0.1 once parsed
  ['http://user:pw@api.example.com/', 'deny'],
  ['ftp://api.example.com/', 'deny'],
];

const privateOk: Omit<UrlGuardOptions, 'lookup'> = { allowPrivate: true };
const privateCases: ReadonlyArray<readonly [string, string]> = [
  ['http://127.0.0.1/', 'allow 127.0.0.1'],
  ['http://10.0.0.1/', 'allow 10.0.0.1'],
  ['http://evil.test/', 'allow 10.0.0.5'],
  ['http://[fd00::1]/', 'allow fd00::1'],
  ['http://100.64.0.1/', 'allow 100.64.0.1'],
  ['http://[::ffff:127.0.0.1]/', 'allow ::ffff:7f00:1'],
  // never reachable without an exact allowlist entry
  ['http://169.254.169.254/', 'deny'],
  ['http://metadata.test/', 'deny'],
  ['http://[fe80::1]/', 'deny'],
  ['http://0.0.0.0/', 'deny'],
  ['http://224.0.0.1/', 'deny'],
  ['http://decimal.test/', 'deny'],
];

const ports: Omit<UrlGuardOptions, 'lookup'> = { allowedPorts: [443] };
const portCases: ReadonlyArray<readonly [string, string]> = [
  ['https://example.test/', 'allow 93.184.216.34'],
  ['https://example.test:443/', 'allow 93.184.216.34'],
  ['http://example.test/', 'deny'],
  ['https://example.test:8443/', 'deny'],
];

describe('createUrlGuard', () => {
  it.each(defaultCases)('default policy: %s → %s', async (url, expected) => {
    expect(await outcome(open, url)).toBe(expected);
  });
  it.each(allowlistCases)('allowlist: %s → %s', async (url, expected) => {
    expect(await outcome(allowlisted, url)).toBe(expected);
  });
  it.each(privateCases)('allowPrivate: %s → %s', async (url, expected) => {
    expect(await outcome(privateOk, url)).toBe(expected);
  });
  it.each(portCases)('allowedPorts [443]: %s → %s', async (url, expected) => {
    expect(await outcome(ports, url)).toBe(expected);
  });

  it('explains a denial without leaking credentials or tokens', async () => {
    const guard = createUrlGuard({ allowPrivate: true, lookup: fakeLookup(dns) });
    const error = await guard.check('http://169.254.169.254/x?token=abc').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'POLICY_DENIED',
      retryable: false,
      details: {
        url: 'http://169.254.169.254/x?token=%5Bredacted%5D',
        reason: '169.254.169.254 resolves to link-local address 169.254.169.254',
      },
    });
    // secretlint-disable-next-line -- a deliberately fake credential, to test redaction
    const creds = await guard.check('http://admin:s3cret@example.test/').catch((e: unknown) => e);
    expect(JSON.stringify(creds)).not.toContain('s3cret');
  });

  it('names the IPv4 hidden in an IPv6 address', async () => {
    const guard = createUrlGuard({ lookup: fakeLookup(dns) });
    await expect(guard.check('http://[::ffff:7f00:1]/')).rejects.toMatchObject({
      message: '::ffff:7f00:1 resolves to loopback address ::ffff:7f00:1 (IPv4-mapped 127.0.0.1)',
    });
  });

  it('does not query DNS for a host outside the allowlist', async () => {
    const lookup = fakeLookup(dns);
    const guard = createUrlGuard({ allowHosts: ['api.example.com'], lookup });
    await expect(guard.check('http://evil.test/')).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    expect(lookup.calls).toEqual([]);
  });

  it('resolves once per check and returns the vetted address', async () => {
    const lookup = fakeLookup(dns);
    const guard = createUrlGuard({ lookup });
    const vetted = await guard.check('https://example.test:8443/a');
    expect(vetted).toMatchObject({ address: '93.184.216.34', family: 4 });
    expect(vetted.url.host).toBe('example.test:8443');
    expect(lookup.calls).toEqual(['example.test']);
  });

  it('maps DNS failures: unknown name fatal, temporary failure retryable', async () => {
    const guard = createUrlGuard({ lookup: fakeLookup(dns) });
    await expect(guard.check('http://nowhere.test/')).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      retryable: false,
    });
    const flaky = createUrlGuard({
      lookup: () =>
        Promise.reject(Object.assign(new Error('queryA EAI_AGAIN'), { code: 'EAI_AGAIN' })),
    });
    await expect(flaky.check('http://example.test/')).rejects.toMatchObject({
      code: 'TRANSIENT',
      retryable: true,
    });
  });

  it('gives up on a hanging lookup when the signal aborts', async () => {
    const guard = createUrlGuard({ lookup: () => new Promise(() => undefined) });
    const signal = AbortSignal.timeout(20);
    await expect(guard.check('http://example.test/', { signal })).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
  });

  it('refuses a malformed allowlist at construction', () => {
    expect(() => createUrlGuard({ allowHosts: ['https://example.com/'] })).toThrow(
      /not a hostname/,
    );
    expect(() => createUrlGuard({ allowHosts: ['a.*.example.com'] })).toThrow(/leading/);
  });
});
