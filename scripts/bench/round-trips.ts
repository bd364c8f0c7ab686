import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { samplerApplicationName } from './resources';

/**
 * Counts, in this process, every SQL statement sent through `pg` and every Redis command sent
 * through ioredis, by patching the two drivers' prototypes once (bench only: both agentry and the
 * reference load the very same `pg` and `ioredis` modules). A Redis "write" is one socket write:
 * a lone command, or a whole pipeline / MULTI block (its commands cost one wait for the server).
 * A `pg` statement is always one round trip (the driver does not pipeline).
 */
export interface RoundTripCounts {
  statements: number;
  redisCommands: number;
  redisWrites: number;
  /** Per statement (its first 60 characters) and per Redis command (scripts by name). */
  byStatement: Map<string, number>;
  byRedisCommand: Map<string, number>;
}

const totals: RoundTripCounts = {
  statements: 0,
  redisCommands: 0,
  redisWrites: 0,
  byStatement: new Map(),
  byRedisCommand: new Map(),
};
let installed = false;

const bump = (map: Map<string, number>, key: string): void => {
  map.set(key, (map.get(key) ?? 0) + 1);
};

interface PgClient {
  connectionParameters?: { application_name?: string };
}
interface RedisCommand {
  name: string;
  args: unknown[];
}
interface Scripted {
  scriptsSet?: Record<string, { sha: string }>;
}

/** Patch `pg.Client#query` and `Redis#sendCommand` (once); counting starts now. */
export function installRoundTripCounter(): void {
  if (installed) return;
  installed = true;
  const require = createRequire(import.meta.resolve('@agentry/db'));
  const pg = require('pg') as { Client: { prototype: { query: (...a: unknown[]) => unknown } } };
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: PgClient, ...args: unknown[]) {
    if (this.connectionParameters?.application_name === samplerApplicationName)
      return query.apply(this, args);
    const first = args[0] as string | { text?: string } | undefined;
    const text = typeof first === 'string' ? first : (first?.text ?? '?');
    totals.statements += 1;
    bump(totals.byStatement, text.replace(/\s+/g, ' ').trim().slice(0, 60));
    return query.apply(this, args);
  };

  const proto = Redis.prototype as unknown as {
    sendCommand: (
      this: Scripted,
      command: RedisCommand,
      stream?: { isPipeline?: boolean },
    ) => unknown;
  };
  const send = proto.sendCommand;
  const shaNames = new Map<string, string>();
  proto.sendCommand = function (command, stream) {
    totals.redisCommands += 1;
    // A pipeline sends its commands in one write: count it at its first command.
    const pipelined = stream?.isPipeline === true;
    const index = (command as { pipelineIndex?: number }).pipelineIndex;
    if (!pipelined || index === 0) totals.redisWrites += 1;
    let name = command.name;
    if (name === 'evalsha' || name === 'eval') {
      const sha = String(command.args[0]);
      if (!shaNames.has(sha))
        for (const [script, s] of Object.entries(this.scriptsSet ?? {}))
          shaNames.set(s.sha, script);
      name = `script ${shaNames.get(sha) ?? sha.slice(0, 8)}`;
    }
    bump(totals.byRedisCommand, name);
    return send.call(this, command, stream);
  };
}

/** A copy of the counts so far. */
export function roundTrips(): RoundTripCounts {
  return {
    ...totals,
    byStatement: new Map(totals.byStatement),
    byRedisCommand: new Map(totals.byRedisCommand),
  };
}

/** `after − before`, per map key too. */
export function roundTripsSince(before: RoundTripCounts): RoundTripCounts {
  const now = roundTrips();
  const diff = (a: Map<string, number>, b: Map<string, number>) =>
    new Map(
      [...a]
        .map(([k, v]) => [k, v - (b.get(k) ?? 0)] as [string, number])
        .filter(([, v]) => v > 0)
        .sort((x, y) => y[1] - x[1]),
    );
  return {
    statements: now.statements - before.statements,
    redisCommands: now.redisCommands - before.redisCommands,
    redisWrites: now.redisWrites - before.redisWrites,
    byStatement: diff(now.byStatement, before.byStatement),
    byRedisCommand: diff(now.byRedisCommand, before.byRedisCommand),
  };
}
