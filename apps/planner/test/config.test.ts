import { describe, expect, it } from 'vitest';
import { loadPlannerConfig } from '../src';

describe('loadPlannerConfig', () => {
  it('turns the environment into settings, with defaults', () => {
    expect(
      loadPlannerConfig({
        AGENTRY_PLANNER_TEMPLATES_FILE: '/etc/agentry/t.json',
        AGENTRY_RECONCILE_INTERVAL_MS: '0',
      }),
    ).toMatchObject({
      concurrency: 8,
      templatesFile: '/etc/agentry/t.json',
      reconcileIntervalMs: 0,
      reconcileAfterMs: 60_000,
      redisUrl: 'redis://127.0.0.1:6379',
    });
  });

  it('lists every bad variable in one readable VALIDATION error', () => {
    let error: (Error & { code?: string }) | undefined;
    try {
      loadPlannerConfig({
        AGENTRY_REDIS_URL: 'not a url',
        AGENTRY_PLANNER_CONCURRENCY: '0',
        AGENTRY_RECONCILE_AFTER_MS: '5',
        AGENTRY_LOG_LEVEL: 'loud',
      });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.code).toBe('VALIDATION');
    const lines = error?.message.split('\n') ?? [];
    expect(lines[0]).toBe('invalid configuration:');
    expect(
      lines
        .slice(1)
        .map((l) => l.split(':')[0]?.trim())
        .sort(),
    ).toEqual([
      'AGENTRY_LOG_LEVEL',
      'AGENTRY_PLANNER_CONCURRENCY',
      'AGENTRY_RECONCILE_AFTER_MS',
      'AGENTRY_REDIS_URL',
    ]);
  });
});
