import { runStepIds } from '../../../tests/chaos/support/chaos-templates';
import type { Criterion, SoakEvidence } from '../judge-soak';

/** The rows the workload implies: one run and plan per intent, 4 steps each, an attempt per step at least. */
export function rowsAsExpected(e: SoakEvidence): Criterion {
  const settled = e.samples.find((s) => s.phase === 'settled');
  if (!settled)
    return {
      name: 'Postgres rows as expected',
      pass: false,
      judged: true,
      detail: 'no sample after settling',
    };
  const r = settled.rows;
  const accepted = e.arrivals.accepted.length;
  const failed = r.runStates.failed ?? 0;
  const stepsPerRun = runStepIds.length;
  const checks: Array<[string, boolean]> = [
    [`runs ${r.runs} = accepted ${accepted}`, r.runs === accepted],
    [`plans ${r.plans} = runs`, r.plans === r.runs],
    [`steps ${r.steps} = ${stepsPerRun} × runs`, r.steps === stepsPerRun * r.runs],
    [
      `step_attempts ${r.stepAttempts} ≥ steps (${r.stepAttempts - r.steps} retries)`,
      r.stepAttempts >= r.steps,
    ],
    [
      `dead_letters ${r.deadLetters} ${failed === 0 ? '= 0' : `≥ failed runs ${failed}`}`,
      failed === 0 ? r.deadLetters === 0 : r.deadLetters >= failed,
    ],
    [`llm_calls ${r.llmCalls} = 0 (template plans)`, r.llmCalls === 0],
    [
      `audit_log ${r.auditLog}, only secret reads (${Object.entries(r.auditTargets)
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')})`,
      Object.keys(r.auditTargets).every((t) => t === 'secret'),
    ],
  ];
  const failedChecks = checks.filter(([, ok]) => !ok).map(([what]) => what);
  return {
    name: 'Postgres rows as expected',
    pass: failedChecks.length === 0,
    judged: true,
    detail: `${checks.map(([what]) => what).join('; ')}${failedChecks.length > 0 ? ` — FAILED: ${failedChecks.join('; ')}` : ''}`,
  };
}
