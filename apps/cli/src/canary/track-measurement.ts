/** What Prometheus says about one track (the canary or the baseline) over the analysis window. */
export interface TrackMeasurement {
  /** Step executions that ended in the window, every outcome (`agentry_executor_steps_total`). */
  steps: number;
  /** Those of them that ended `failed`. */
  failedSteps: number;
  /** p95 of the step durations in the window, in ms; `undefined` when there is no data. */
  p95Ms: number | undefined;
  /** Each scrape target of the track and its lowest `up` in the window (1: never missed). */
  targets: ReadonlyArray<{ target: string; minUp: number }>;
  /** Process restarts in the window, by target (only targets that restarted). */
  restarts: Readonly<Record<string, number>>;
  /** Jobs dead-lettered in the window, by the queue they came from (only queues with some). */
  deadLetters: Readonly<Record<string, number>>;
}
