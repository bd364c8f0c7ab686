import type { InvariantReport } from './invariants';

/**
 * Print the scenario's one-line JSON summary on stdout (the numbers docs/reliability.md quotes):
 * `{"chaos":"<scenario>", runs…, kills…, retriedDeliveries, duplicatesApplied, seconds, …}`.
 */
export function printSummary(
  scenario: string,
  report: InvariantReport,
  extra: Record<string, unknown>,
  startedAt: number,
): void {
  const { runs, sink } = report;
  console.log(
    JSON.stringify({
      chaos: scenario,
      runsSubmitted: runs.accepted,
      succeeded: runs.succeeded,
      failedWithDeadLetter: runs.failedWithDeadLetter,
      failedWithoutDeadLetter: runs.failed - runs.failedWithDeadLetter,
      rejected: runs.rejected,
      cancelled: runs.cancelled,
      deadLetters: report.deadLetters,
      ...extra,
      effectsApplied: sink.applied,
      deliveries: sink.deliveries,
      retriedDeliveries: sink.retriedDeliveries,
      retriedByAnotherWorker: sink.retriedByAnotherWorker,
      duplicatesApplied: sink.duplicateEffects,
      signedWebhooks: sink.signed,
      attempts: report.attempts,
      placesScannedForSecrets: report.scanned,
      violations: report.violations.length,
      seconds: Math.round((Date.now() - startedAt) / 100) / 10,
    }),
  );
}
