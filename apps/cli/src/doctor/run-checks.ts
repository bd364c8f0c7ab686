import { toAppError } from '@agentry/schema';
import { fail, type CheckResult, type DoctorCheck, type Finding } from './doctor-check';
import type { DoctorContext } from './doctor-context';

/**
 * Run every check at once, each under `timeoutMs`, and yield the results in the order given (a
 * slow check delays the lines after it, never the others' work). A check that throws or does not
 * answer in time is a `fail`. Never throws.
 */
export async function* runChecks(
  checks: readonly DoctorCheck[],
  ctx: DoctorContext,
  options: { timeoutMs: number },
): AsyncGenerator<CheckResult> {
  const running = checks.map((check) => runOne(check, ctx, options.timeoutMs));
  for (const [i, check] of checks.entries()) {
    const finding = await (running[i] as Promise<Finding>);
    yield { check: check.name, ...finding };
  }
}

async function runOne(check: DoctorCheck, ctx: DoctorContext, timeoutMs: number): Promise<Finding> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Finding>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve(
        fail(
          `no answer within ${(timeoutMs / 1_000).toFixed(1)} s`,
          'the service is slow or hanging: look at it, or run again with a longer --timeout <ms>',
        ),
      );
    }, timeoutMs);
  });
  const ran = Promise.resolve()
    .then(() => check.run(ctx, controller.signal))
    .catch((e: unknown) => {
      const error = toAppError(e);
      return fail(
        `check failed: ${error.code}: ${error.message}`,
        'unexpected: correct what the message names, or run again',
      );
    });
  try {
    return await Promise.race([ran, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
