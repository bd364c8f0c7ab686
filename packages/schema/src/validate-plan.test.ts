import { describe, expect, it } from 'vitest';
import { isAppError } from './errors';
import { topologicalOrder, validatePlan } from './validate-plan';

const tools = new Set(['echo', 'wait', 'http.request']);
const plan = (steps: unknown[]) => ({
  source: 'template',
  producedBy: 'test',
  summary: 's',
  steps,
});

function failure(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (isAppError(e)) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

describe('validatePlan', () => {
  it('accepts a DAG and orders dependencies first', () => {
    const { order, plan: p } = validatePlan(
      plan([
        { id: 'c', tool: 'echo', dependsOn: ['a', 'b'] },
        { id: 'a', tool: 'echo' },
        { id: 'b', tool: 'wait', dependsOn: ['a'] },
      ]),
      tools,
    );
    expect(order).toEqual(['a', 'b', 'c']);
    expect(p.steps[1]).toMatchObject({ timeoutMs: 30_000, maxAttempts: 3, risk: 'low', input: {} });
  });

  it('rejects unknown tools with the names', () => {
    const e = failure(() => validatePlan(plan([{ id: 'a', tool: 'shell.exec' }]), tools));
    expect(e.code).toBe('UNKNOWN_TOOL');
    expect(e.details?.unknownTools).toEqual(['shell.exec']);
    expect(e.retryable).toBe(false);
  });

  it('rejects cycles, self-dependencies, missing dependencies and duplicate ids', () => {
    expect(
      failure(() =>
        validatePlan(
          plan([
            { id: 'a', tool: 'echo', dependsOn: ['b'] },
            { id: 'b', tool: 'echo', dependsOn: ['a'] },
          ]),
          tools,
        ),
      ).message,
    ).toMatch(/cycle/);
    expect(
      failure(() => validatePlan(plan([{ id: 'a', tool: 'echo', dependsOn: ['a'] }]), tools))
        .message,
    ).toMatch(/depends on itself/);
    expect(
      failure(() => validatePlan(plan([{ id: 'a', tool: 'echo', dependsOn: ['zz'] }]), tools))
        .message,
    ).toMatch(/missing step "zz"/);
    expect(
      failure(() =>
        validatePlan(
          plan([
            { id: 'a', tool: 'echo' },
            { id: 'a', tool: 'echo' },
          ]),
          tools,
        ),
      ).message,
    ).toMatch(/appears twice/);
  });

  it('rejects plans over the step cap and unknown fields', () => {
    const many = Array.from({ length: 51 }, (_, i) => ({ id: `s${i}`, tool: 'echo' }));
    expect(failure(() => validatePlan(plan(many), tools)).code).toBe('PLAN_INVALID');
    expect(
      failure(() => validatePlan({ ...plan([{ id: 'a', tool: 'echo' }]), extra: 1 }, tools)).code,
    ).toBe('PLAN_INVALID');
  });

  it('topologicalOrder reports a cycle as undefined', () => {
    expect(topologicalOrder([{ id: 'x', dependsOn: ['x'] }])).toBeUndefined();
  });
});
