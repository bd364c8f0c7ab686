import type { CanaryCheck } from './canary-check';
import type { CheckInputs } from './check-inputs';
import { formatCanaryValue } from './format-canary-value';

const sum = (byKey: Readonly<Record<string, number>>) =>
  Object.values(byKey).reduce((a, b) => a + b, 0);
const listed = (byKey: Readonly<Record<string, number>>) =>
  Object.entries(byKey)
    .map(([key, n]) => `${key} ${formatCanaryValue('count', n)}`)
    .join(', ');

/** `targets-up`: every canary scrape target answered every scrape of the window (`min_over_time(up)`). */
export function targetsUpCheck({ canary, baseline }: CheckInputs): CanaryCheck {
  const down = canary.targets.filter((x) => !(x.minUp >= 1));
  const head = {
    check: 'targets-up',
    unit: 'count',
    canary: down.length,
    baseline:
      baseline.targets.length === 0 ? null : baseline.targets.filter((x) => !(x.minUp >= 1)).length,
    limit: 0,
    threshold: '0 targets down',
  } as const;
  if (canary.targets.length === 0) {
    return {
      ...head,
      canary: null,
      verdict: 'inconclusive',
      reason:
        'Prometheus has no up series of the canary in the window: no canary target to judge ' +
        '(is it deployed, does --canary-selector match it?)',
    };
  }
  return down.length > 0
    ? {
        ...head,
        verdict: 'fail',
        reason:
          `${down.length} of ${canary.targets.length} canary targets failed a scrape in the ` +
          `window: ${down.map((x) => x.target).join(', ')}`,
      }
    : {
        ...head,
        verdict: 'pass',
        reason: `all ${canary.targets.length} canary targets were up for the whole window`,
      };
}

/** `restarts`: no canary process restarted in the window (`changes(process_start_time_seconds)`). */
export function restartsCheck({ canary, baseline }: CheckInputs): CanaryCheck {
  return noneOnCanary('restarts', canary.restarts, baseline.restarts, {
    fail: 'canary processes restarted in the window',
    pass: 'no canary process restarted in the window',
  });
}

/** `dead-letters`: no job was dead-lettered on the canary in the window. */
export function deadLettersCheck({ canary, baseline }: CheckInputs): CanaryCheck {
  return noneOnCanary('dead-letters', canary.deadLetters, baseline.deadLetters, {
    fail: 'jobs were dead-lettered on the canary in the window',
    pass: 'no job was dead-lettered on the canary in the window',
  });
}

/** A check that fails on any count on the canary; the baseline's is reported, not judged. */
function noneOnCanary(
  check: 'restarts' | 'dead-letters',
  canary: Parameters<typeof sum>[0],
  baseline: Parameters<typeof sum>[0],
  reasons: { fail: string; pass: string },
): CanaryCheck {
  const total = sum(canary);
  const head = {
    check,
    unit: 'count',
    canary: total,
    baseline: sum(baseline),
    limit: 0,
    threshold: '0',
  } as const;
  return total > 0
    ? { ...head, verdict: 'fail', reason: `${reasons.fail}: ${listed(canary)}` }
    : { ...head, verdict: 'pass', reason: reasons.pass };
}
