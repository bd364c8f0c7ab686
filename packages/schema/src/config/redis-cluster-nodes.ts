/** One seed node of a Redis Cluster. */
export interface RedisClusterNode {
  host: string;
  port: number;
}

/** `host:port` or `[ipv6]:port`. */
const seed = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+)):(\d{1,5})$/;

/**
 * Parse `AGENTRY_REDIS_CLUSTER_NODES`: comma-separated `host:port` seeds (`[::1]:7000` for IPv6),
 * e.g. `redis-0.redis:6379,redis-1.redis:6379`. The client learns the other nodes from them, so a
 * few seeds are enough, but give more than one: a client starting while its only seed is down
 * cannot find the cluster.
 *
 * @throws Error naming the first bad entry (a URL, a missing or out-of-range port, a duplicate),
 *   or an empty list.
 */
export function parseRedisClusterNodes(text: string): RedisClusterNode[] {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0) throw new Error('no node: give host:port seeds, comma-separated');
  const nodes: RedisClusterNode[] = [];
  const seen = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    // An entry with "@" may hold a password: name it by position instead of quoting it.
    const shown = entry.includes('@') ? `entry ${i + 1}` : `"${entry}"`;
    if (entry.includes('://')) {
      throw new Error(
        `${shown} is a URL: give host:port (TLS is AGENTRY_REDIS_CLUSTER_TLS, the password AGENTRY_REDIS_PASSWORD_REF)`,
      );
    }
    const m = seed.exec(entry);
    if (!m) throw new Error(`${shown} is not host:port`);
    const port = Number(m[3]);
    if (port < 1 || port > 65_535) throw new Error(`${shown}: port ${m[3]} is out of range`);
    const host = (m[1] ?? m[2]) as string;
    const key = `${host}:${port}`;
    if (seen.has(key)) throw new Error(`${shown} is given twice`);
    seen.add(key);
    nodes.push({ host, port });
  }
  return nodes;
}
