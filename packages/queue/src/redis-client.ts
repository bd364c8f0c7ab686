import type { Cluster, Redis } from 'ioredis';

/**
 * A connection agentry runs on: one Redis server, or a Redis Cluster (see
 * `createRedisConnection`). Both take the same commands; the few places that must tell them apart
 * (a duplicate, a SCAN, a server setting) go through the helpers below.
 */
export type RedisClient = Redis | Cluster;

/** True for an ioredis `Cluster`. */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/**
 * A new connection with `client`'s settings (and its password, if it follows one), under another
 * client name: what a subscriber needs, since a subscribed connection can do nothing else. The
 * caller owns the copy. (ioredis's own `duplicate` takes options for one server and seed nodes
 * for a Cluster; this takes neither.)
 */
export function duplicateConnection(client: RedisClient, name?: string): RedisClient {
  if (!isCluster(client))
    return client.duplicate(name === undefined ? {} : { connectionName: name });
  const redisOptions = client.options.redisOptions ?? {};
  return client.duplicate(undefined, {
    redisOptions: name === undefined ? redisOptions : { ...redisOptions, connectionName: name },
  });
}

/**
 * The servers that hold data: the client itself, or a Cluster's masters as it knows them now
 * (each a plain client to that node, owned by the Cluster). For commands about a server rather
 * than a key: INFO, CONFIG GET, SCAN.
 */
export function masterServers(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client];
}

/**
 * The server that holds `key`: the client itself, or the Cluster master serving the key's slot
 * (`CLUSTER KEYSLOT`, one round trip, then the client's slot table). For the INFO of the server
 * a fleet's queues live on (their prefix is one hash tag, so one slot). Rejects when the Cluster
 * knows no node for the slot.
 */
export async function serverOf(client: RedisClient, key: string): Promise<Redis> {
  if (!isCluster(client)) return client;
  const slot = Number(await client.cluster('KEYSLOT', key));
  const nodeKey = client.slots[slot]?.[0];
  const node = client
    .nodes('master')
    .find((n) => `${n.options.host ?? ''}:${String(n.options.port ?? '')}` === nodeKey);
  if (node === undefined) throw new Error(`no Redis Cluster master known for slot ${slot}`);
  return node;
}
