import { isAppError } from '@agentry/schema';
import { describe, expect, it } from 'vitest';
import { costOf, priceTable } from './price-table';

const table = priceTable({
  models: { 'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 } },
});

describe('costOf', () => {
  it('prices input and output tokens per million', () => {
    expect(costOf('gpt-4o', { inputTokens: 2_000_000, outputTokens: 100_000 }, table)).toEqual({
      costUsd: 6,
      priced: true,
    });
  });

  it('costs 0 with priced: false for an unknown model, even a prototype key', () => {
    expect(costOf('mystery', { inputTokens: 10, outputTokens: 10 }, table)).toEqual({
      costUsd: 0,
      priced: false,
    });
    expect(costOf('toString', { inputTokens: 10, outputTokens: 10 }, table).priced).toBe(false);
  });
});

describe('priceTable', () => {
  it('rejects a negative or misspelt price with VALIDATION', () => {
    for (const bad of [
      { models: { m: { inputPerMTok: -1, outputPerMTok: 1 } } },
      { models: { m: { inputPerMtok: 1, outputPerMTok: 1 } } },
    ]) {
      let caught: unknown;
      try {
        priceTable(bad);
      } catch (error) {
        caught = error;
      }
      expect(isAppError(caught) && caught.code).toBe('VALIDATION');
    }
  });
});
