import { AppError } from '@agentry/schema';

const marker = '__agentryBrokenCircuit' as const;

/**
 * What an open (or saturated half-open) circuit rejects with, without calling the function: an
 * `AppError` with code `UNAVAILABLE` (retryable). When the circuit is OPEN, `details.retryAfterMs`
 * is the time left until it lets a probe through, so an outer {@link retry} waits exactly that
 * long, or gives up at once if that is beyond its `maxMs`.
 */
export class BrokenCircuitError extends AppError {
  readonly [marker] = true;

  constructor(message: string, retryAfterMs?: number) {
    super('UNAVAILABLE', message, {
      details: retryAfterMs === undefined ? { circuit: 'open' } : { circuit: 'open', retryAfterMs },
    });
    this.name = 'BrokenCircuitError';
  }
}

/** True for a {@link BrokenCircuitError}, even from another copy of this package. */
export function isBrokenCircuitError(value: unknown): value is BrokenCircuitError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>)[marker] === true
  );
}
