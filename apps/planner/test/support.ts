import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultApprovalPolicy, submitIntent } from '@agentry/engine';
import { builtinToolNames, builtinToolProfile } from '@agentry/executor';
import { waitFor, type TestFleet } from '@agentry/engine/testing';
import type { StepInput } from '@agentry/schema';
import type { PlanJobDeps } from '../src';
import { builtinTemplates, createTemplatePlanner, type Template } from '../src/templates';

export { openTestFleet, waitFor, type TestFleet } from '@agentry/engine/testing';

/**
 * The planner's job dependencies over a test fleet, with extra templates tried first, the
 * built-in tools' profiles, no history and the default approval policy (unless `policy` says).
 */
export function planJobDeps(
  fleet: TestFleet,
  templates: readonly Template[] = [],
  policy: Partial<PlanJobDeps['review']['policy']> = {},
): PlanJobDeps {
  return {
    ...fleet.services.engine,
    chain: { templates: createTemplatePlanner([...templates, ...builtinTemplates]) },
    knownTools: builtinToolNames,
    review: {
      tools: builtinToolProfile,
      durations: () => fleet.services.repos.steps.durations(new Date(0)),
      pricing: { prices: { models: {} }, model: undefined },
      policy: { ...defaultApprovalPolicy, ...policy },
    },
  };
}

/** What a plan job handler needs of its context, with the job id bound on the log as in production. */
export function planCtx(fleet: TestFleet, jobId: string) {
  return { jobId, log: fleet.services.log.child({ jobId }), signal: new AbortController().signal };
}

/** Write a templates file (AGENTRY_PLANNER_TEMPLATES_FILE) of one template per entry; its path. */
export async function writeTemplatesFile(
  templates: Array<{ id: string; pattern: string; steps: StepInput[] }>,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'agentry-planner-test-'));
  const path = join(dir, 'templates.json');
  await writeFile(
    path,
    JSON.stringify({ templates: templates.map((t) => ({ summary: t.id, ...t })) }),
  );
  return path;
}

/** Submit `text` for tenant `acme` and wait until its run is in `state`; what the submit answered. */
export async function submitAndWait(fleet: TestFleet, text: string, state: string) {
  const submitted = await submitIntent(fleet.services.engine, { text, tenantId: 'acme' });
  await waitFor(
    async () => (await fleet.repos.runs.get(submitted.runId))?.state === state,
    10_000,
    `run ${state}`,
  );
  return submitted;
}
