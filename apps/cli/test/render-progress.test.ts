import { describe, expect, it } from 'vitest';
import {
  formatElapsed,
  progressSignature,
  renderProgress,
  type ProgressInput,
} from '../src/render-progress';

const t0 = Date.parse('2026-11-24T12:00:00.000Z');
const at = (ms: number) => new Date(t0 + ms).toISOString();

const view = (over: Partial<ProgressInput> = {}): ProgressInput => ({
  run: { state: 'running', spentUsd: 0.0123, budgetUsd: 1, createdAt: at(-500), startedAt: at(0) },
  plan: { review: { estimatedCost: { totalUsd: 0.04 } } },
  steps: [
    { stepId: 'build', state: 'succeeded', startedAt: at(0) },
    { stepId: 'test', state: 'succeeded', startedAt: at(10_000) },
    { stepId: 'deploy', state: 'running', startedAt: at(28_700) },
    { stepId: 'verify', state: 'pending' },
    { stepId: 'notify', state: 'pending' },
  ],
  ...over,
});

describe('renderProgress', () => {
  it('says steps done, the running step and for how long, elapsed, cost, estimate and budget', () => {
    expect(renderProgress(view(), t0 + 41_000)).toBe(
      'progress: 2/5 steps done, running: deploy (12.3 s), elapsed 41.0 s, cost $0.0123 of est. $0.0400 (budget $1.00)',
    );
  });

  it('leaves out the estimate and budget a run does not have', () => {
    const line = renderProgress(
      view({ plan: null, run: { state: 'running', spentUsd: 0, startedAt: at(0) } }),
      t0 + 30_000,
    );
    expect(line).toBe(
      'progress: 2/5 steps done, running: deploy (1.3 s), elapsed 30.0 s, cost $0.0000',
    );
  });

  it('shows several running steps, and queued ones when none runs', () => {
    const parallel = view({
      steps: [
        { stepId: 'a', state: 'running', startedAt: at(0) },
        { stepId: 'b', state: 'running', startedAt: at(1_500) },
      ],
    });
    expect(renderProgress(parallel, t0 + 2_000)).toMatch(/running: a \(2\.0 s\) \+ b \(0\.5 s\)/);
    const queued = view({
      steps: [
        { stepId: 'a', state: 'succeeded' },
        { stepId: 'b', state: 'queued' },
        { stepId: 'c', state: 'queued' },
      ],
    });
    expect(renderProgress(queued, t0)).toMatch(/^progress: 1\/3 steps done, queued: 2, /);
  });

  it('counts compensated steps as done and names failed and cancelled ones', () => {
    const failed = view({
      run: { state: 'failed', spentUsd: 0.5, startedAt: at(0), finishedAt: at(65_000) },
      steps: [
        { stepId: 'a', state: 'compensated' },
        { stepId: 'b', state: 'failed' },
        { stepId: 'c', state: 'cancelled' },
      ],
    });
    // A finished run's elapsed time stops at its end, however late the line is printed.
    expect(renderProgress(failed, t0 + 999_000)).toBe(
      'progress: 1/3 steps done, 1 failed, 1 cancelled, elapsed 1 min 05 s, cost $0.5000 of est. $0.0400',
    );
  });

  it('says planning before there is a plan, counting from the creation of the run', () => {
    const pending = view({
      run: { state: 'pending', spentUsd: 0.001, createdAt: at(0) },
      plan: null,
      steps: [],
    });
    expect(renderProgress(pending, t0 + 2_500)).toBe(
      'progress: planning, elapsed 2.5 s, cost $0.0010',
    );
  });

  it('formats long durations in minutes and hours', () => {
    expect(formatElapsed(59_949)).toBe('59.9 s');
    expect(formatElapsed(192_000)).toBe('3 min 12 s');
    expect(formatElapsed(3_720_000)).toBe('1 h 02 min');
    expect(formatElapsed(-5)).toBe('0.0 s');
  });
});

describe('progressSignature', () => {
  it('changes with states and cost, not with the passing of time', () => {
    const base = view();
    expect(progressSignature(view())).toBe(progressSignature(base));
    expect(progressSignature(view({ run: { ...base.run, spentUsd: 0.02 } }))).not.toBe(
      progressSignature(base),
    );
    const moved = view({
      steps: base.steps.map((s) => (s.stepId === 'deploy' ? { ...s, state: 'succeeded' } : s)),
    });
    expect(progressSignature(moved)).not.toBe(progressSignature(base));
  });
});
