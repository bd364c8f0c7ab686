import { describe, expect, it } from 'vitest';
import { Intent } from './intent';
import { PlanJob } from './jobs';
import { runIdForPlanJob, stableUuid } from './ids';
import { limits } from './limits';

describe('Intent', () => {
  it('fills defaults', () => {
    expect(Intent.parse({ text: ' hi ', tenantId: 'acme' })).toEqual({
      text: 'hi',
      tenantId: 'acme',
      dryRun: false,
      metadata: {},
    });
  });

  it('refuses oversize text, unknown fields, wrong types and bad tenants with readable issues', () => {
    const long = Intent.safeParse({
      text: 'x'.repeat(limits.intentTextMaxChars + 1),
      tenantId: 'a',
    });
    expect(long.success).toBe(false);
    expect(long.error?.issues[0]?.message).toMatch(/longer than/);
    expect(Intent.safeParse({ text: 'x', tenantId: 'a', surprise: 1 }).success).toBe(false);
    expect(Intent.safeParse({ text: 1, tenantId: 'a' }).success).toBe(false);
    expect(Intent.safeParse({ text: 'x', tenantId: 'Has Space' }).success).toBe(false);
    expect(Intent.safeParse({ text: 'x', tenantId: 'a', budgetUsd: -1 }).success).toBe(false);
  });

  it('refuses text Postgres cannot store: NUL and unpaired surrogates, in text and metadata', () => {
    for (const bad of [
      { text: 'a\ud800b' },
      { text: 'tail \udc00' },
      { text: 'nul \u0000 inside' },
      { text: 'ok', metadata: { 'k\u0000': 'v' } },
      { text: 'ok', metadata: { k: '\ud83d' } },
    ]) {
      const parsed = Intent.safeParse({ tenantId: 't1', ...bad });
      expect(parsed.success, JSON.stringify(bad)).toBe(false);
      // (A bad metadata key is reported as "Invalid key in record" with this issue inside.)
      expect(JSON.stringify(parsed.error?.issues)).toMatch(
        /NUL character or an unpaired surrogate/,
      );
    }
    // A surrogate pair is one character (an emoji), not a broken one.
    expect(Intent.safeParse({ tenantId: 't1', text: 'deploy 😀 \ud83d\ude00' }).success).toBe(true);
  });

  it('keeps unicode text intact', () => {
    const text = 'déploie 🚀 \u202e build ８１２';
    expect(Intent.parse({ text, tenantId: 'a' }).text).toBe(text);
  });

  it('derives a stable run id from a plan job id', () => {
    expect(runIdForPlanJob('abc', undefined)).toBe(runIdForPlanJob('abc', undefined));
    expect(runIdForPlanJob('abc', undefined)).not.toBe(runIdForPlanJob('abd', undefined));
    expect(stableUuid('x')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(PlanJob.safeParse({ intent: { text: 'x', tenantId: 'a' }, runId: 'nope' }).success).toBe(
      false,
    );
  });
});
