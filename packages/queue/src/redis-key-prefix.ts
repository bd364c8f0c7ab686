/**
 * The BullMQ key prefix for agentry: the base wrapped in braces, e.g. `{agentry}`.
 *
 * BullMQ builds every key as `<prefix>:<queue>:<suffix>` (`QueueKeys.toKey`), e.g.
 * `{agentry}:agentry.step:wait`, `{agentry}:agentry.step:<jobId>:lock`. Redis Cluster hashes only
 * the part between the first `{` and the next `}` (a hash tag), so every key of every agentry queue
 * maps to the same slot. That is what makes BullMQ's multi-key Lua scripts (which touch wait,
 * active, the job hash, the events stream, ... in one call) Cluster-safe, and also lets one
 * script touch two queues (flows, the dead-letter queue). The cost: all agentry queues sharing
 * one base live on one shard; give independent fleets different bases to spread them.
 *
 * @param base - Name inside the hash tag; must not contain `{`, `}` or `:`. @default 'agentry'
 */
export function redisKeyPrefix(base = 'agentry'): string {
  if (!/^[^{}:\s]+$/.test(base)) {
    throw new Error(
      `redis key prefix base must be non-empty without "{", "}", ":" or spaces: ${JSON.stringify(base)}`,
    );
  }
  return `{${base}}`;
}
