import { toError } from '@agentry/schema';
import type { Breaker } from './breaker';
import { BrokenCircuitError } from './broken-circuit-error';
import { EventEmitter, type Event } from './events';
import { isTransientFault } from './faults';
import type { Policy } from './policy';
import { abortReason, neverAborted } from './sleep';

/** The three states of a circuit. */
export type CircuitState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

/** A source of the current time in ms; `Date` by default (which fake timers control). */
export interface Clock {
  now(): number;
}

/** Options of {@link circuitBreaker}. */
export interface CircuitBreakerOptions {
  /** How long the circuit stays OPEN before letting probes through, in ms. */
  halfOpenAfterMs: number;
  /** When to open: {@link samplingBreaker} or {@link consecutiveBreaker}. */
  breaker: Breaker;
  /** Calls let through in HALF_OPEN; all must succeed to close. @default 1 */
  halfOpenProbes?: number;
  /**
   * Which errors count as failures of the dependency. Others (validation, not-found, ...: the
   * dependency answered) count as neither success nor failure. @default {@link isTransientFault}
   */
  handleWhen?: (error: Error) => boolean;
  /** @default Date */
  clock?: Clock;
}

/** A circuit breaker policy (see {@link circuitBreaker}). */
export interface CircuitBreakerPolicy extends Policy {
  /** The current state. OPEN turns HALF_OPEN on the first call after `halfOpenAfterMs`. */
  readonly state: CircuitState;
  /** The circuit opened (from CLOSED or HALF_OPEN) because of `error`. */
  readonly onBreak: Event<{ error: Error }>;
  /** The circuit let its first probe through. */
  readonly onHalfOpen: Event<void>;
  /** All probes succeeded: the circuit closed. */
  readonly onReset: Event<void>;
  /** Every transition, for metrics. */
  readonly onStateChange: Event<{ from: CircuitState; to: CircuitState }>;
}

/**
 * Stop calling a failing dependency.
 *
 * Contract:
 * - CLOSED: calls pass; outcomes feed `breaker` (errors `handleWhen` accepts are failures, so a
 *   `TIMEOUT` from an inner {@link timeout} counts); when it says so, the circuit opens;
 * - OPEN: rejects at once with a {@link BrokenCircuitError} without calling the function;
 * - the first call at least `halfOpenAfterMs` after opening turns it HALF_OPEN and is a probe; up
 *   to `halfOpenProbes` probes are let through, further calls are rejected as in OPEN;
 * - HALF_OPEN: when `halfOpenProbes` probes have succeeded it closes (history reset); the first
 *   failing probe re-opens it for another `halfOpenAfterMs`;
 * - an outcome that arrives after the state changed since its call started is ignored, and a call
 *   the caller aborted never counts as a failure.
 */
export function circuitBreaker(options: CircuitBreakerOptions): CircuitBreakerPolicy {
  const { halfOpenAfterMs, breaker, halfOpenProbes = 1 } = options;
  const { handleWhen = isTransientFault, clock = Date } = options;
  if (!(Number.isFinite(halfOpenAfterMs) && halfOpenAfterMs >= 0))
    throw new RangeError(`halfOpenAfterMs must be a finite number >= 0, got ${halfOpenAfterMs}`);
  if (!(Number.isInteger(halfOpenProbes) && halfOpenProbes >= 1))
    throw new RangeError(`halfOpenProbes must be an integer >= 1, got ${halfOpenProbes}`);

  const broke = new EventEmitter<{ error: Error }>();
  const halfOpened = new EventEmitter<void>();
  const reset = new EventEmitter<void>();
  const changed = new EventEmitter<{ from: CircuitState; to: CircuitState }>();

  let state: CircuitState = 'CLOSED';
  let openedAt = 0;
  // Bumped on every transition so late outcomes of calls from an earlier state are ignored.
  let generation = 0;
  let probesInFlight = 0;
  let probeSuccesses = 0;

  const transition = (to: CircuitState): void => {
    const from = state;
    state = to;
    generation++;
    probesInFlight = 0;
    probeSuccesses = 0;
    changed.emit({ from, to });
  };
  const open = (error: Error): void => {
    openedAt = clock.now();
    transition('OPEN');
    broke.emit({ error });
  };

  return {
    get state() {
      return state;
    },
    onBreak: broke.event,
    onHalfOpen: halfOpened.event,
    onReset: reset.event,
    onStateChange: changed.event,
    async execute(fn, signal = neverAborted) {
      if (signal.aborted) throw abortReason(signal);
      if (state === 'OPEN') {
        const left = openedAt + halfOpenAfterMs - clock.now();
        if (left > 0) throw new BrokenCircuitError('circuit is open', left);
        transition('HALF_OPEN');
        halfOpened.emit();
      }
      const isProbe = state === 'HALF_OPEN';
      if (isProbe) {
        if (probesInFlight + probeSuccesses >= halfOpenProbes)
          throw new BrokenCircuitError('circuit is half-open and its probes are in flight');
        probesInFlight++;
      }
      const started = generation;

      let value;
      try {
        value = await fn({ signal });
      } catch (caught) {
        const error = toError(caught);
        if (started === generation) {
          if (isProbe) probesInFlight--;
          if (!signal.aborted && handleWhen(error)) {
            if (isProbe || breaker.failure(clock.now())) open(error);
          }
        }
        throw error;
      }
      if (started === generation) {
        if (!isProbe) breaker.success(clock.now());
        else {
          probesInFlight--;
          if (++probeSuccesses >= halfOpenProbes) {
            breaker.reset();
            transition('CLOSED');
            reset.emit();
          }
        }
      }
      return value;
    },
  };
}
