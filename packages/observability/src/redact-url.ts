/** `scheme://user:pass@` — the userinfo part of any URL inside a string. */
const userinfo = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*(?:@[^\s/?#@]*)*@/gi;

/** Query parameters that carry credentials in connection strings (`?password=…`, `&sslkey=…`). */
const secretParam =
  /([?&](?:password|passwd|pass|pwd|token|access_token|secret|api_key|apikey|sslpassword|sslkey)=)[^&\s#]*/gi;

/**
 * Removes credentials from a URL, or from every URL inside a longer text (an error message that
 * quotes a connection string): the `user:password@` part is dropped and credential query
 * parameters (`password`, `token`, `secret`, `api_key`, …) are replaced by `[redacted]`.
 *
 * Use it whenever a connection string may reach a log line, a metric, an HTTP response or a dead
 * letter. Pure and never throws; text without URLs is returned unchanged.
 *
 * secretlint-disable-next-line -- a deliberately fake credential
 * @example redactUrl('postgres://app:s3cret@db:5432/agentry') // 'postgres://db:5432/agentry'
 */
export function redactUrl(url: string): string {
  return url.replace(userinfo, '$1').replace(secretParam, '$1[redacted]');
}
