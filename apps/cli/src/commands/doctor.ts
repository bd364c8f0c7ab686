import type { Command } from 'commander';
import { AppError, isAppError, toAppError } from '@agentry/schema';
import { fail, type CheckResult } from '../doctor/doctor-check';
import { doctorChecks } from '../doctor/doctor-checks';
import { openDoctorContext, type DoctorContext } from '../doctor/doctor-context';
import { renderCheck, renderSummary } from '../doctor/render-check';
import { runChecks } from '../doctor/run-checks';

interface DoctorOptions {
  json?: boolean;
  timeout: string;
  maxWait: string;
}

/**
 * `agentry doctor`: checks what the fleet depends on (Redis and its settings, Postgres and its
 * migrations, the queues, dead letters, secret references, clocks) from the same variables the
 * fleet reads. One line per check with the fix; exit code 1 if any check fails.
 */
export function doctorCommand(program: Command, env: Record<string, string | undefined>) {
  program
    .command('doctor')
    .description('check Redis, Postgres, queues, secrets and clocks; each line with its fix')
    .option('--json', 'print the checks as JSON')
    .option('--timeout <ms>', 'how long each check may take', '10000')
    .option('--max-wait <seconds>', 'warn when the oldest waiting job of a queue is older', '300')
    .action(async (opts: DoctorOptions) => {
      const timeoutMs = positive(opts.timeout, '--timeout');
      const maxWaitMs = positive(opts.maxWait, '--max-wait') * 1_000;
      const checks = doctorChecks({ maxWaitMs });
      const width = Math.max(...checks.map((c) => c.name.length));
      const results: CheckResult[] = [];
      const report = (result: CheckResult) => {
        results.push(result);
        if (!opts.json) console.log(renderCheck(result, width));
      };

      let ctx: DoctorContext | undefined;
      try {
        ctx = await openDoctorContext(env, { connectTimeoutMs: Math.min(timeoutMs, 5_000) });
      } catch (e) {
        for (const result of configFailures(e)) report(result);
      }
      if (ctx) {
        try {
          for await (const result of runChecks(checks, ctx, { timeoutMs })) report(result);
        } finally {
          await ctx.close();
        }
      }
      const ok = !results.some((r) => r.status === 'fail');
      console.log(
        opts.json ? JSON.stringify({ ok, checks: results }, null, 2) : renderSummary(results),
      );
      if (!ok) process.exitCode = 1;
    });
}

/** An invalid environment as `config` failures, one per variable. */
function configFailures(e: unknown): CheckResult[] {
  const error = toAppError(e);
  const issues = isAppError(error) ? error.details?.issues : undefined;
  if (Array.isArray(issues) && issues.length > 0) {
    return issues.map((issue: { path?: unknown[]; message?: string }) => {
      const variable = issue.path?.join('.') || '(environment)';
      return {
        check: 'config',
        ...fail(
          `${variable}: ${issue.message ?? 'invalid'}`,
          `set ${variable} to a valid value (README: Configuration); nothing else was checked`,
        ),
      };
    });
  }
  return [
    {
      check: 'config',
      ...fail(
        `${error.code}: ${error.message}`,
        'correct the variable the message names (README: Configuration); nothing else was checked',
      ),
    },
  ];
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new AppError('VALIDATION', `${flag} takes a positive number, not ${value}`);
  return n;
}
