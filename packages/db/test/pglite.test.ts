import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRepositories,
  migrateDown,
  migrateToLatest,
  migrationStatus,
  migrations,
  openDatabase,
} from '../src';
import { diamond, planOf, runInput } from './fixtures';

describe('embedded PGlite', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentry-db-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('migrates, round-trips a run through its plan, and persists across reopen', async () => {
    const dataDir = join(dir, 'pgdata');
    const lines: string[] = [];
    const runId = randomUUID();
    {
      await using database = await openDatabase({
        dataDir,
        log: { info: (_o, msg) => lines.push(msg) },
      });
      expect(database.kind).toBe('pglite');
      expect(database.describe).toBe(`pglite ${dataDir}`);
      expect(lines).toEqual([`database: pglite ${dataDir}`]);
      expect(await migrateToLatest(database.db)).toHaveLength(Object.keys(migrations).length);

      const repos = createRepositories(database.db);
      const { run, created } = await repos.runs.create(runInput({ id: runId, budgetUsd: 0.75 }));
      expect(created).toBe(true);
      expect(await repos.runs.get(runId)).toEqual(run);
      expect(run.budgetUsd).toBe(0.75);
      expect((await repos.runs.create(runInput({ id: runId }))).created).toBe(false);

      expect(await repos.runs.savePlan(runId, planOf(diamond), 'running')).toEqual({
        saved: true,
        rootStepIds: ['a'],
        roots: [{ stepId: 'a', maxAttempts: 3 }],
      });
      const a = await repos.steps.startAttempt(runId, 'a', { attempt: 1, jobId: 'j', worker: 'w' });
      if (a.kind !== 'run') throw new Error('expected to run');
      expect(a.attemptId).toMatch(/^\d+$/);
      expect((await repos.steps.complete(runId, 'a', a.attemptId, { x: 1 })).readyStepIds).toEqual([
        'b',
        'c',
      ]);
      // Concurrent calls share PGlite's single connection: each transaction runs alone.
      const [b, c] = await Promise.all([
        repos.steps.startAttempt(runId, 'b', { attempt: 1, jobId: 'jb', worker: 'w' }),
        repos.steps.startAttempt(runId, 'c', { attempt: 1, jobId: 'jc', worker: 'w' }),
      ]);
      if (b.kind !== 'run' || c.kind !== 'run') throw new Error('expected to run');
      const done = await Promise.all([
        repos.steps.complete(runId, 'b', b.attemptId, 'b'),
        repos.steps.complete(runId, 'c', c.attemptId, 'c'),
      ]);
      expect(done.flatMap((d) => d.readyStepIds)).toEqual(['d']);
      const letter = {
        sourceQueue: 'agentry.plan',
        jobId: 'x',
        jobName: 'plan',
        reason: 'r',
        errorCode: 'VALIDATION' as const,
        attempts: 1,
        payload: 42,
      };
      const dl = await repos.deadLetters.capture(letter);
      expect(await repos.deadLetters.capture(letter)).toEqual({ id: dl.id, created: false });
      expect((await repos.deadLetters.get(dl.id))?.payload).toEqual({ raw: 42 });
      expect(await repos.deadLetters.purge({ ids: [dl.id] })).toBe(1);
      expect(await repos.deadLetters.purge({ ids: [dl.id] })).toBe(0);
      await database.close(); // and again on dispose: a no-op
    }
    {
      await using database = await openDatabase({ dataDir });
      expect((await migrationStatus(database.db))[0]?.executedAt).toBeInstanceOf(Date);
      const repos = createRepositories(database.db);
      expect((await repos.runs.detail(runId))?.steps.map((s) => s.state)).toEqual([
        'succeeded',
        'succeeded',
        'succeeded',
        'queued',
      ]);
      expect(await migrateDown(database.db, { to: 'zero' })).toHaveLength(
        Object.keys(migrations).length,
      );
    }
  });
});
