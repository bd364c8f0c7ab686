import { randomUUID } from 'node:crypto';
import type { ErrorCode } from '@agentry/schema';
import type { Redis } from 'ioredis';
import type {
  DeadLetterAdminStore,
  DeadLetterQuery,
  DeadLetterRecord,
} from '../src/dead-letter-admin-store';
import type { DeadLetterEntry, DeadLetterStore } from '../src/dead-letter-store';
import type { QueueLogger } from '../src/queue-logger';

export const redisUrl = 'redis://127.0.0.1:6379';

/** A key prefix unique to one test file, hash-tagged like production's. */
export function testPrefix(name: string): string {
  return `{t-queue-${name}-${randomUUID().slice(0, 8)}}`;
}

export { deleteKeys, waitFor } from '../src/testing';

export interface LogLine {
  level: string;
  obj: object;
  msg: string | undefined;
}

/** A logger that records lines (bindings merged) for assertions. */
export function memoryLogger(
  lines: LogLine[] = [],
  bindings: Record<string, unknown> = {},
): QueueLogger & { lines: LogLine[] } {
  const at = (level: string) => (obj: object, msg?: string) =>
    void lines.push({ level, obj: { ...bindings, ...obj }, msg });
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (b) => memoryLogger(lines, { ...bindings, ...b }),
  };
}

/** In-memory double of OUR store interfaces (idempotent per sourceQueue+jobId while not replayed). */
export class MemoryDeadLetters implements DeadLetterStore, DeadLetterAdminStore {
  readonly records = new Map<string, DeadLetterRecord & { error?: unknown }>();
  captures = 0;
  failNext = 0;

  async capture(entry: DeadLetterEntry): Promise<{ id: string; created: boolean }> {
    this.captures += 1;
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('database is down');
    }
    for (const r of this.records.values()) {
      if (r.sourceQueue === entry.sourceQueue && r.jobId === entry.jobId && r.replayedAt === null)
        return { id: r.id, created: false };
    }
    const id = randomUUID();
    this.records.set(id, {
      id,
      sourceQueue: entry.sourceQueue,
      jobId: entry.jobId,
      jobName: entry.jobName,
      reason: entry.reason,
      errorCode: entry.errorCode as ErrorCode,
      attempts: entry.attempts,
      payload: entry.payload,
      error: entry.error,
      failedAt: new Date(),
      replayedAt: null,
      replayCount: 0,
      runId: entry.runId ?? null,
      stepId: entry.stepId ?? null,
      correlationId: entry.correlationId ?? null,
    });
    return { id, created: true };
  }

  async list(q: DeadLetterQuery): Promise<DeadLetterRecord[]> {
    return [...this.records.values()].filter(
      (r) =>
        (q.sourceQueue === undefined || r.sourceQueue === q.sourceQueue) &&
        (q.pending !== true || r.replayedAt === null) &&
        (q.olderThan === undefined || r.failedAt < q.olderThan),
    );
  }

  async get(id: string): Promise<DeadLetterRecord | undefined> {
    return this.records.get(id);
  }

  async markReplayed(id: string): Promise<void> {
    const r = this.records.get(id);
    if (r) {
      r.replayedAt = new Date();
      r.replayCount += 1;
    }
  }

  async purge(q: { ids?: string[]; olderThan?: Date }): Promise<number> {
    let n = 0;
    for (const r of [...this.records.values()]) {
      if (q.ids?.includes(r.id) || (q.olderThan !== undefined && r.failedAt < q.olderThan)) {
        this.records.delete(r.id);
        n += 1;
      }
    }
    return n;
  }
}

export const validIntent = { text: 'deploy build 812 to staging', tenantId: 'acme' };

/** Resolve once a client is connected (fail-fast producer clients refuse commands before that). */
export async function untilReady(client: Redis): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve) => client.once('ready', () => resolve()));
}
