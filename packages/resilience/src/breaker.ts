/**
 * Decides when a CLOSED circuit opens (cockatiel's `IBreaker`). It only sees calls made while
 * CLOSED. Each factory call returns fresh state: give every circuit its own breaker.
 */
export interface Breaker {
  /** Record a success at time `now` (ms). */
  success(now: number): void;
  /** Record a failure at time `now` (ms); true when the circuit should open. */
  failure(now: number): boolean;
  /** Forget all history; called when the circuit closes again. */
  reset(): void;
}
