/** Hard caps every producer, planner and worker agrees on. */
export const limits = {
  /** Longest intent text accepted, in characters. */
  intentTextMaxChars: 8_000,
  /** Largest serialised plan-job payload accepted, in bytes (the API answers 413 above it). */
  payloadMaxBytes: 64 * 1024,
  /** Most steps a plan may have. */
  planMaxSteps: 50,
  /** Most metadata entries on an intent. */
  metadataMaxEntries: 32,
  /** Longest step timeout a plan may ask for. */
  stepTimeoutMaxMs: 15 * 60_000,
  /** Most attempts a plan may give a step. */
  stepMaxAttempts: 10,
} as const;
