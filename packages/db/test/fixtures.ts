import { randomUUID } from 'node:crypto';
import { Plan, topologicalOrder, type Intent, type PlanInput } from '@agentry/schema';
import {
  createRepositories,
  openDatabase,
  type CreateRunInput,
  type Repositories,
  type SavePlanInput,
} from '../src';
import { createTestDatabase, testDatabaseUrl, type TestDatabase } from '../src/testing';

export const intent = (over: Partial<Intent> = {}): Intent => ({
  text: 'deploy build 812 to staging',
  tenantId: 'acme',
  dryRun: false,
  metadata: { build_number: 812, snake_case_key: 'kept as is' },
  ...over,
});

export const runInput = (over: Partial<CreateRunInput> = {}): CreateRunInput => ({
  id: randomUUID(),
  tenantId: 'acme',
  correlationId: `corr-${randomUUID()}`,
  dryRun: false,
  intent: intent(),
  ...over,
});

/**
 * A plan from `{ stepId: [deps] }`, e.g. the diamond `{ a: [], b: ['a'], c: ['a'], d: ['b', 'c'] }`;
 * `maxAttempts` overrides the default (3) per step.
 */
export function planOf(
  graph: Record<string, string[]>,
  maxAttempts: Record<string, number> = {},
): SavePlanInput {
  const input: PlanInput = {
    source: 'template',
    producedBy: 'test',
    summary: 'test plan',
    steps: Object.entries(graph).map(([id, dependsOn]) => ({
      id,
      tool: 'test.echo',
      input: { id },
      dependsOn,
      ...(maxAttempts[id] === undefined ? {} : { maxAttempts: maxAttempts[id] }),
    })),
  };
  const plan = Plan.parse(input);
  const order = topologicalOrder(plan.steps);
  if (!order) throw new Error('cycle');
  return { plan, order, hash: `hash-${Object.keys(graph).join('')}` };
}

export const diamond = { a: [], b: ['a'], c: ['a'], d: ['b', 'c'] };

/**
 * A migrated test schema seen by two pools — two worker processes, as far as Postgres can tell —
 * and a started run of a given plan graph. Close it in `afterAll`.
 */
export async function openTwoWorkers(): Promise<{
  t: TestDatabase;
  repos: Repositories;
  repos2: Repositories;
  startedRun(graph: Record<string, string[]>): Promise<string>;
  close(): Promise<void>;
}> {
  const t = await createTestDatabase();
  const second = await openDatabase({ url: testDatabaseUrl(), schema: t.schema, poolMax: 4 });
  const repos = createRepositories(t.db);
  return {
    t,
    repos,
    repos2: createRepositories(second.db),
    async startedRun(graph) {
      const { run } = await repos.runs.create(runInput());
      await repos.runs.savePlan(run.id, planOf(graph), 'running');
      return run.id;
    },
    async close() {
      await second.close();
      await t.close();
    },
  };
}
