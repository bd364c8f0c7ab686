import type { Criterion, SoakEvidence } from '../judge-soak';

/** Every intent accepted and ended (the chaos invariants), nothing refused, no secret in a log. */
export function lostRuns(e: SoakEvidence): Criterion {
  if (e.invariants === undefined)
    return {
      name: 'zero lost runs',
      judged: true,
      pass: false,
      detail: `interrupted after ${e.arrivals.submitted} intents: not checked`,
    };
  const { runs } = e.invariants;
  const problems = [
    ...(e.interrupted ? ['interrupted'] : []),
    ...e.arrivals.refused.slice(0, 3).map((r) => `refused ${r}`),
    ...(e.arrivals.accepted.length === e.arrivals.submitted
      ? []
      : [
          `${e.arrivals.submitted - e.arrivals.accepted.length} of ${e.arrivals.submitted} not accepted`,
        ]),
    ...e.invariants.violations,
    ...e.logs.leaks.map((l) => `secret ${l}`),
  ];
  const ended = runs.succeeded + runs.failedWithDeadLetter + runs.rejected + runs.cancelled;
  return {
    name: 'zero lost runs',
    judged: true,
    pass: problems.length === 0 && ended === e.arrivals.submitted,
    detail: `${e.arrivals.submitted} submitted, ${runs.accepted} accepted, ${runs.succeeded} succeeded, ${runs.failedWithDeadLetter} failed with a dead letter, ${runs.accepted - ended} not ended; chaos invariants: ${e.invariants.violations.length} violations${problems.length > 0 ? ` — ${problems.slice(0, 5).join('; ')}` : ''}`,
  };
}
