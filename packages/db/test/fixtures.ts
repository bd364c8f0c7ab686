import { randomUUID } from 'node:crypto';
import { Plan, topologicalOrder, type Intent, type PlanInput } from '@agentry/schema';
import type { CreateRunInput, SavePlanInput } from '../src';

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
