import {
  circuitBreaker,
  isBrokenCircuitError,
  isTransientFault,
  samplingBreaker,
  type CircuitBreakerPolicy,
  type CircuitState,
  type Clock,
} from '@agentry/resilience';
import { isAppError, toError } from '@agentry/schema';
import { amendAppError } from '@agentry/schema';

/** Settings of {@link createOriginCircuits}. */
export interface OriginCircuitOptions {
  /** Failed share of an origin's calls at which its circuit opens. @default 0.5 */
  threshold?: number;
  /** Sliding window that share is measured over, in ms. @default 30000 */
  windowMs?: number;
  /** Fewest calls in the window before the circuit may open. @default 10 */
  minCalls?: number;
  /** How long an open circuit rejects before it lets a probe through, in ms. @default 10000 */
  halfOpenAfterMs?: number;
  /** Probes let through when half-open; all must succeed to close it. @default 1 */
  halfOpenProbes?: number;
  /** Origins tracked at once; beyond it the least recently used is forgotten. @default 1000 */
  maxOrigins?: number;
  /** @default Date */
  clock?: Clock;
  /** Every transition of an origin's circuit (for logs or metrics). Must not throw. */
  onStateChange?: (origin: string, from: CircuitState, to: CircuitState) => void;
}

/** One circuit breaker per URL origin (scheme, host, port), shared by every call through it. */
export interface OriginCircuits {
  /**
   * Run `fn` under the circuit of `url`'s origin. While that circuit is open, rejects at once,
   * without calling `fn`, with a retryable `UNAVAILABLE` AppError whose details are
   * `{ circuit: 'open', origin, retryAfterMs }` (`retryAfterMs`, the time until a probe may go,
   * is absent while the half-open probes are in flight). Failures that count against the origin:
   * see {@link countsAgainstOrigin}. A call aborted through `signal` never counts.
   */
  execute<T>(url: string, fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T>;
  /** The state of the origin's circuit; `undefined` when the origin is not tracked. */
  state(url: string): CircuitState | undefined;
}

/**
 * True for a failure that says the origin is unhealthy: a retryable network fault, timeout or 5xx.
 * A 4xx (429 and 408 included) is an answer of a working server and does not count.
 */
export function countsAgainstOrigin(error: Error): boolean {
  if (!isTransientFault(error)) return false;
  const status = isAppError(error) ? error.details?.['status'] : undefined;
  return !(typeof status === 'number' && status >= 400 && status < 500);
}

/**
 * Per-origin circuits for the HTTP tools of one executor process (defaults: open when half of at
 * least 10 calls in 30 s failed, one probe after 10 s). Throws a `RangeError` for bad settings.
 */
export function createOriginCircuits(options: OriginCircuitOptions = {}): OriginCircuits {
  const { threshold = 0.5, windowMs = 30_000, minCalls = 10 } = options;
  const { halfOpenAfterMs = 10_000, halfOpenProbes = 1, maxOrigins = 1_000 } = options;
  if (!(Number.isInteger(maxOrigins) && maxOrigins >= 1))
    throw new RangeError(`maxOrigins must be an integer >= 1, got ${maxOrigins}`);
  const create = (origin: string): CircuitBreakerPolicy => {
    const policy = circuitBreaker({
      breaker: samplingBreaker({ threshold, windowMs, minCalls }),
      halfOpenAfterMs,
      halfOpenProbes,
      handleWhen: countsAgainstOrigin,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    const { onStateChange } = options;
    if (onStateChange) policy.onStateChange(({ from, to }) => onStateChange(origin, from, to));
    return policy;
  };
  create(''); // fail fast on settings the breaker refuses
  // Insertion order is recency order: a use moves the origin to the end, the first is evicted.
  const circuits = new Map<string, CircuitBreakerPolicy>();
  const circuitOf = (origin: string): CircuitBreakerPolicy => {
    let circuit = circuits.get(origin);
    if (circuit) circuits.delete(origin);
    else circuit = create(origin);
    circuits.set(origin, circuit);
    if (circuits.size > maxOrigins) circuits.delete(circuits.keys().next().value ?? '');
    return circuit;
  };

  return {
    async execute(url, fn, signal) {
      const origin = originOf(url);
      // Not a URL: nothing to guard here, the URL guard refuses it.
      if (origin === undefined) return fn(signal);
      try {
        return await circuitOf(origin).execute(({ signal: inner }) => fn(inner), signal);
      } catch (e) {
        const error = toError(e);
        if (!isBrokenCircuitError(error)) throw error;
        throw amendAppError(error, { message: `${origin}: ${error.message}`, details: { origin } });
      }
    },
    state(url) {
      const origin = originOf(url);
      return origin === undefined ? undefined : circuits.get(origin)?.state;
    },
  };
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
