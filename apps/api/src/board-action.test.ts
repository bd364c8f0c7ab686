import { appRoutes, buildHistoryRoutes } from '@bull-board/api/dist/routes.js';
import { describe, expect, it } from 'vitest';
import { boardAction, boardVerbs } from './board-action';

/** Every API route Bull Board can register, the optional history routes included. */
const everyRoute = [
  ...appRoutes.api,
  ...buildHistoryRoutes(
    { getHistory: async () => [] },
    { hasUsage: true, canPurge: true, hasLatency: true },
  ),
].flatMap((r) =>
  [r.route].flat().flatMap((route) => [r.method].flat().map((method) => ({ method, route }))),
);

describe('boardAction', () => {
  it('has an audit verb for every mutating route of Bull Board (an upgrade adding one fails here)', () => {
    const mutating = everyRoute.filter((r) => r.method !== 'get');
    expect(mutating.length).toBeGreaterThan(20);
    for (const { method, route } of mutating) {
      expect(boardVerbs[route], `${method.toUpperCase()} ${route}`).toBeDefined();
    }
    // …and names no route that does not exist (or is a read).
    const known = new Set(mutating.map((r) => r.route));
    expect(Object.keys(boardVerbs).filter((r) => !known.has(r))).toEqual([]);
  });

  it('names jobs, job schedulers and queues as targets', () => {
    expect(
      boardAction('/api/queues/:queueName/:jobId/retry', 'PUT', {
        queueName: 'agentry.step',
        jobId: 'step.r.s1',
      }),
    ).toEqual({ action: 'board.retry', targetType: 'job', targetId: 'agentry.step/step.r.s1' });
    expect(
      boardAction('/api/queues/:queueName/:jobId/clean', 'PUT', { queueName: 'q', jobId: '7' }),
    ).toMatchObject({ action: 'board.remove', targetId: 'q/7' });
    expect(
      boardAction('/api/queues/:queueName/clean/:queueStatus', 'PUT', {
        queueName: 'agentry.dlq',
        queueStatus: 'failed',
      }),
    ).toEqual({ action: 'board.clean', targetType: 'queue', targetId: 'agentry.dlq' });
    expect(
      boardAction('/api/queues/:queueName/job-schedulers/:schedulerId/run', 'PUT', {
        queueName: 'q',
        schedulerId: 'nightly',
      }),
    ).toEqual({
      action: 'board.scheduler-run',
      targetType: 'job-scheduler',
      targetId: 'q/nightly',
    });
    expect(boardAction('/api/queues/pause', 'PUT', {})).toEqual({
      action: 'board.pause',
      targetType: 'queue',
      targetId: '*',
    });
  });

  it('names a request no route matched by its method, and bounds the target id', () => {
    expect(boardAction(undefined, 'DELETE', { '*': 'x' })).toEqual({
      action: 'board.delete',
      targetType: 'queue',
      targetId: '*',
    });
    const long = boardAction('/api/queues/:queueName/:jobId/retry', 'PUT', {
      queueName: 'q',
      jobId: 'j'.repeat(1000),
    });
    expect(long.targetId).toHaveLength(300);
  });
});
