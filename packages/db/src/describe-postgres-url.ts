/**
 * A password-free description of a Postgres URL, e.g. `postgres 127.0.0.1:5432/test`.
 * Never throws and never echoes the URL itself: an unparseable URL is described as such.
 */
export function describePostgresUrl(url: string, schema?: string): string {
  let where: string;
  try {
    const u = new URL(url);
    const host = u.hostname || u.searchParams.get('host') || 'localhost';
    const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || '(default)';
    where = `${host}:${u.port || '5432'}/${database}`;
  } catch {
    where = '(unparseable url)';
  }
  return `postgres ${where}${schema === undefined ? '' : ` schema=${schema}`}`;
}
