import { submitIntent } from '@agentry/engine';
import { createExecutor, loadExecutorConfig, type ExecutorApp } from '@agentry/executor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlanner, loadPlannerConfig, type PlannerApp } from '../src';
import { openTestFleet, waitFor, writeTemplatesFile, type TestFleet } from './support';

let fleet: TestFleet;
let planner: PlannerApp;
let executor: ExecutorApp;
beforeAll(async () => {
  fleet = await openTestFleet('fleet');
  const templates = await writeTemplatesFile([
    {
      id: 'diamond',
      pattern: '^diamond',
      steps: [
        { id: 'a', tool: 'echo', input: { message: 'a' } },
        { id: 'b', tool: 'wait', input: { ms: 120 }, dependsOn: ['a'] },
        { id: 'c', tool: 'wait', input: { ms: 60 }, dependsOn: ['a'] },
        { id: 'd', tool: 'echo', input: { message: '{{text}}' }, dependsOn: ['b', 'c'] },
      ],
    },
  ]);
  const services = { services: fleet.services, health: false };
  planner = await createPlanner(
    loadPlannerConfig({ ...fleet.env, AGENTRY_PLANNER_TEMPLATES_FILE: templates }),
    services,
  );
  executor = await createExecutor(loadExecutorConfig(fleet.env), services);
  await Promise.all([planner.start(), executor.start()]);
});
afterAll(async () => {
  await Promise.all([planner.close({ deadlineMs: 2_000 }), executor.close({ deadlineMs: 2_000 })]);
  await fleet.close();
});

describe('planner and executor in one process', () => {
  it('runs a diamond from a templates file: each step once, d after b and c', async () => {
    const { runId, correlationId } = await submitIntent(fleet.services.engine, {
      text: 'diamond please',
      tenantId: 'acme',
    });
    await waitFor(
      async () => (await fleet.repos.runs.get(runId))?.state === 'succeeded',
      10_000,
      'run succeeded',
    );
    const detail = await fleet.repos.runs.detail(runId);
    expect(detail?.plan?.producedBy).toBe('template:diamond');
    expect(
      detail?.steps.map((s) => [s.stepId, s.state, s.attempts, s.attemptHistory.length]),
    ).toEqual([
      ['a', 'succeeded', 1, 1],
      ['b', 'succeeded', 1, 1],
      ['c', 'succeeded', 1, 1],
      ['d', 'succeeded', 1, 1],
    ]);
    const at = (id: string) => detail?.steps.find((s) => s.stepId === id);
    const bcDone = Math.max(
      at('b')?.finishedAt?.getTime() ?? Infinity,
      at('c')?.finishedAt?.getTime() ?? Infinity,
    );
    expect(at('d')?.startedAt?.getTime()).toBeGreaterThanOrEqual(bcDone);
    expect(at('d')?.output).toEqual({ message: 'diamond please' });

    const lines = fleet.logs.filter((l) => l.runId === runId);
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['run planned and started', 'run succeeded']),
    );
    expect(lines.filter((l) => l.correlationId !== correlationId)).toEqual([]);
  });
});
