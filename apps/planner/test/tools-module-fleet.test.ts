import { resolve } from 'node:path';
import { createExecutor, loadExecutorConfig, type ExecutorApp } from '@agentry/executor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlanner, loadPlannerConfig, type PlannerApp } from '../src';
import { openTestFleet, submitAndWait, writeTemplatesFile, type TestFleet } from './support';

/** The executor's fixture: an application's tools module exporting `acme.note`. */
const toolsModule = resolve(import.meta.dirname, '../../executor/test/fixtures/acme-tools.mjs');

let fleet: TestFleet;
let planner: PlannerApp;
let executor: ExecutorApp;
beforeAll(async () => {
  fleet = await openTestFleet('toolsmod');
  const templates = await writeTemplatesFile([
    {
      id: 'note',
      pattern: '^note',
      steps: [{ id: 'write', tool: 'acme.note', input: { text: '{{text}}' } }],
    },
  ]);
  // Configured as a deployment would be: the same variable on both, no code.
  const env = { ...fleet.env, AGENTRY_TOOLS_MODULE: toolsModule };
  const shared = { services: fleet.services, health: false };
  planner = await createPlanner(
    loadPlannerConfig({ ...env, AGENTRY_PLANNER_TEMPLATES_FILE: templates }),
    shared,
  );
  executor = await createExecutor(loadExecutorConfig(env), shared);
  await Promise.all([planner.start(), executor.start()]);
});
afterAll(async () => {
  await Promise.all([
    planner?.close({ deadlineMs: 2_000 }),
    executor?.close({ deadlineMs: 2_000 }),
  ]);
  await fleet?.close();
});

describe('AGENTRY_TOOLS_MODULE on the planner and the executor', () => {
  it("plans and runs the module's tool, reviewed at its own risk", async () => {
    const { runId } = await submitAndWait(fleet, 'note the release', 'succeeded');
    const detail = await fleet.repos.runs.detail(runId);
    expect(detail?.steps.map((s) => [s.tool, s.state, s.output])).toEqual([
      ['acme.note', 'succeeded', { noted: 'NOTE THE RELEASE' }],
    ]);
    // Reviewed by the module's own profile (risk medium), not as an unknown tool.
    expect(detail?.plan?.review?.steps.map((s) => [s.tool, s.risk])).toEqual([
      ['acme.note', 'medium'],
    ]);
  });
});
