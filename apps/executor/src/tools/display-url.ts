const secretParam =
  /^(?:password|passwd|pass|pwd|token|access_token|secret|api_key|apikey|key|sig|signature)$/i;

/**
 * A URL as it may appear in errors and logs: no `user:password@`, and the values of
 * credential-looking query parameters (`token`, `api_key`, `sig`, …) replaced by `[redacted]`.
 * Never throws; text that is not a URL comes back as `[invalid url]`.
 */
export function displayUrl(url: string | URL): string {
  let copy: URL;
  try {
    copy = new URL(url);
  } catch {
    return '[invalid url]';
  }
  copy.username = '';
  copy.password = '';
  for (const name of [...copy.searchParams.keys()]) {
    if (secretParam.test(name)) copy.searchParams.set(name, '[redacted]');
  }
  return copy.toString();
}
