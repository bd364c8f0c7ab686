import {
  builtinTools,
  createExecutor,
  defineTool,
  loadExecutorConfig,
  type ExecutorApp,
} from '@agentry/executor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createPlanner, loadPlannerConfig, type PlannerApp } from '../src';
import { openTestFleet, submitAndWait, writeTemplatesFile, type TestFleet } from './support';

let fleet: TestFleet;
let planner: PlannerApp;
let executor: ExecutorApp;

/** An application's own tool, offered by the executor and known to the planner. */
const noteTool = defineTool({
  name: 'acme.note',
  description: 'Write a note in the ACME notebook.',
  input: z.strictObject({ text: z.string().min(1) }),
  output: z.object({ noted: z.string() }),
  risk: 'low',
  estimatedMs: 1,
  async run(input) {
    return { noted: input.text.toUpperCase() };
  },
});
const tools = [...builtinTools({ http: {} }), noteTool];

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
    {
      id: 'note',
      pattern: '^note',
      steps: [
        { id: 'write', tool: 'acme.note', input: { text: '{{text}}' } },
        { id: 'confirm', tool: 'echo', input: { message: 'noted' }, dependsOn: ['write'] },
      ],
    },
  ]);
  const services = { services: fleet.services, health: false };
  planner = await createPlanner(
    loadPlannerConfig({ ...fleet.env, AGENTRY_PLANNER_TEMPLATES_FILE: templates }),
    { ...services, tools },
  );
  executor = await createExecutor(loadExecutorConfig(fleet.env), { ...services, tools });
  await Promise.all([planner.start(), executor.start()]);
});
afterAll(async () => {
  await Promise.all([planner.close({ deadlineMs: 2_000 }), executor.close({ deadlineMs: 2_000 })]);
  await fleet.close();
});

describe('planner and executor in one process', () => {
  it('runs a diamond from a templates file: each step once, d after b and c', async () => {
    const { runId, correlationId } = await submitAndWait(fleet, 'diamond please', 'succeeded');
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

  it("plans and runs an application's own tool when planner and executor are given it", async () => {
    const { runId } = await submitAndWait(fleet, 'note the launch', 'succeeded');
    const detail = await fleet.repos.runs.detail(runId);
    expect(detail?.plan?.producedBy).toBe('template:note');
    expect(detail?.steps.map((s) => [s.stepId, s.tool, s.state, s.output])).toEqual([
      ['write', 'acme.note', 'succeeded', { noted: 'NOTE THE LAUNCH' }],
      ['confirm', 'echo', 'succeeded', { message: 'noted' }],
    ]);
  });

  it('refuses a plan naming the tool when the planner was not given it', async () => {
    const templates = await writeTemplatesFile([
      {
        id: 'note',
        pattern: '^note',
        steps: [{ id: 'write', tool: 'acme.note', input: { text: '{{text}}' } }],
      },
    ]);
    // Built-ins only (the default): the template loads, but its plan names an unknown tool.
    await planner.close({ deadlineMs: 2_000 });
    const builtinsOnly = await createPlanner(
      loadPlannerConfig({ ...fleet.env, AGENTRY_PLANNER_TEMPLATES_FILE: templates }),
      { services: fleet.services, health: false },
    );
    await builtinsOnly.start();
    try {
      const { runId } = await submitAndWait(fleet, 'note this too', 'failed');
      const run = await fleet.repos.runs.get(runId);
      expect(run?.error).toMatchObject({ code: 'UNKNOWN_TOOL' });
    } finally {
      await builtinsOnly.close({ deadlineMs: 2_000 });
    }
  });
});
