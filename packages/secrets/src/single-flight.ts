import { toAppError } from '@agentry/schema';

/** Concurrent calls of the same key share one run (see {@link createSingleFlight}). */
export interface SingleFlight<T> {
  /**
   * Join the run of `key`, or start it with `start`. A caller whose `signal` aborts rejects at
   * once (`CANCELLED`, or its reason as an `AppError`); the shared run's signal aborts only when
   * every caller that passed a signal has left and none without one waits.
   */
  run(
    key: string,
    signal: AbortSignal | undefined,
    start: (signal: AbortSignal) => Promise<T>,
  ): Promise<T>;
  /** Abort every run in progress with `reason` (on close). */
  abortAll(reason: unknown): void;
  /**
   * Let the run of `key` finish for those already waiting, but start a new run for the next
   * caller (its result is outdated: the key was invalidated or rewritten meanwhile).
   */
  detach(key: string): void;
}

interface Flight<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiters: number;
}

/** A {@link SingleFlight}: one run per key at a time, forgotten when it settles. */
export function createSingleFlight<T>(): SingleFlight<T> {
  const flights = new Map<string, Flight<T>>();

  const startFlight = (key: string, start: (signal: AbortSignal) => Promise<T>): Flight<T> => {
    const controller = new AbortController();
    const promise: Promise<T> = (async () => start(controller.signal))().finally(() => {
      if (flights.get(key) === flight) flights.delete(key);
    });
    const flight: Flight<T> = { promise, controller, waiters: 0 };
    flights.set(key, flight);
    return flight;
  };

  return {
    run(key, signal, start) {
      if (signal?.aborted === true) return Promise.reject(toAppError(signal.reason));
      const flight = flights.get(key) ?? startFlight(key, start);
      flight.waiters += 1;
      if (signal === undefined) return flight.promise;
      return new Promise<T>((resolve, reject) => {
        const onAbort = () => {
          const reason = toAppError(signal.reason);
          reject(reason);
          flight.waiters -= 1;
          if (flight.waiters === 0) flight.controller.abort(reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        void flight.promise
          .then(resolve, reject)
          .finally(() => signal.removeEventListener('abort', onAbort));
      });
    },
    abortAll(reason) {
      for (const flight of flights.values()) flight.controller.abort(reason);
    },
    detach(key) {
      flights.delete(key);
    },
  };
}
