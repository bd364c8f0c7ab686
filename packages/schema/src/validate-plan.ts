import { AppError } from './errors';
import { limits } from './limits';
import { Plan, type PlanInput, type Step } from './plan';

export interface ValidatedPlan {
  plan: Plan;
  /** Step ids in an order where every step comes after its dependencies. */
  order: string[];
}

/**
 * Parse a plan and check what a schema cannot: unique ids, known tools, existing dependencies,
 * no cycles, the step cap. Throws `AppError('PLAN_INVALID' | 'UNKNOWN_TOOL')` with every problem
 * listed in `details.problems`.
 */
export function validatePlan(
  input: PlanInput | unknown,
  knownTools: ReadonlySet<string>,
): ValidatedPlan {
  const parsed = Plan.safeParse(input);
  if (!parsed.success) {
    throw new AppError('PLAN_INVALID', 'plan does not match the plan schema', {
      details: { issues: parsed.error.issues },
    });
  }
  const plan = parsed.data;
  const problems: string[] = [];
  const byId = new Map<string, Step>();
  for (const step of plan.steps) {
    if (byId.has(step.id)) problems.push(`step "${step.id}" appears twice`);
    byId.set(step.id, step);
  }
  const unknown = plan.steps.filter((s) => !knownTools.has(s.tool)).map((s) => s.tool);
  if (unknown.length > 0) {
    throw new AppError(
      'UNKNOWN_TOOL',
      `plan names unknown tools: ${[...new Set(unknown)].join(', ')}`,
      {
        details: { unknownTools: [...new Set(unknown)], knownTools: [...knownTools].sort() },
      },
    );
  }
  for (const step of plan.steps) {
    for (const dep of step.dependsOn) {
      if (!byId.has(dep)) problems.push(`step "${step.id}" depends on missing step "${dep}"`);
      if (dep === step.id) problems.push(`step "${step.id}" depends on itself`);
    }
  }
  if (plan.steps.length > limits.planMaxSteps)
    problems.push(`more than ${limits.planMaxSteps} steps`);
  if (problems.length > 0) {
    throw new AppError('PLAN_INVALID', `plan is invalid: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  const order = topologicalOrder(plan.steps);
  if (order === undefined) {
    throw new AppError('PLAN_INVALID', 'plan steps form a cycle', {
      details: { problems: ['cycle'] },
    });
  }
  return { plan, order };
}

/** Kahn's algorithm; undefined when the graph has a cycle. Stable: ties keep plan order. */
export function topologicalOrder(
  steps: readonly Pick<Step, 'id' | 'dependsOn'>[],
): string[] | undefined {
  const indegree = new Map(steps.map((s) => [s.id, new Set(s.dependsOn).size]));
  const dependents = new Map<string, string[]>();
  for (const s of steps)
    for (const d of new Set(s.dependsOn)) dependents.set(d, [...(dependents.get(d) ?? []), s.id]);
  const ready = steps.filter((s) => indegree.get(s.id) === 0).map((s) => s.id);
  const order: string[] = [];
  while (ready.length > 0) {
    const id = ready.shift() as string;
    order.push(id);
    for (const next of dependents.get(id) ?? []) {
      const left = (indegree.get(next) ?? 0) - 1;
      indegree.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  return order.length === steps.length ? order : undefined;
}
