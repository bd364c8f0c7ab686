import { describe, expect, it } from 'vitest';
import { renderRun } from '../src/render';

describe('renderRun', () => {
  it('says why each planner was skipped and what the model calls cost', () => {
    const text = renderRun({
      run: {
        id: 'r1',
        state: 'awaiting_approval',
        tenantId: 'acme',
        planning: {
          hops: [
            {
              planner: 'llm:openai:gpt-4o',
              outcome: 'skipped',
              code: 'UNAVAILABLE',
              reason: 'circuit is open',
            },
            { planner: 'template', outcome: 'skipped', code: 'NOT_FOUND' },
            { planner: 'fallback', outcome: 'planned' },
          ],
        },
      },
      plan: { summary: 'No planner could plan this intent', producedBy: 'fallback:needs-approval' },
      llmCalls: [
        { costUsd: 0.0125, inputTokens: 1_000, outputTokens: 200 },
        { costUsd: 0, inputTokens: 0, outputTokens: 0 },
      ],
      steps: [],
    });
    expect(text.split('\n')).toEqual([
      'run r1  tenant acme  state awaiting_approval',
      'plan: No planner could plan this intent  (fallback:needs-approval)',
      '  skipped llm:openai:gpt-4o: [UNAVAILABLE] circuit is open',
      '  skipped template: [NOT_FOUND]',
      'model calls: 2  tokens 1000 in / 200 out  cost $0.0125',
    ]);
  });
});
