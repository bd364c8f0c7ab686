/** Stop listening. Safe to call more than once. */
export interface Disposable {
  dispose(): void;
}

/**
 * Subscribe to a policy's event: `policy.onRetry(({ attempt }) => ...)`. Listeners run
 * synchronously, in subscription order, after the policy has updated its own state.
 */
export type Event<T> = (listener: (data: T) => void) => Disposable;

/**
 * A tiny synchronous event emitter: the only way a policy reports what it does (no logger, no
 * metrics). A listener that throws cannot corrupt the policy: the error is rethrown on a
 * microtask, so it surfaces as an uncaught exception instead of failing the call.
 */
export class EventEmitter<T> {
  readonly #listeners = new Set<(data: T) => void>();

  /** The subscribe function to expose as `onSomething`. */
  readonly event: Event<T> = (listener) => {
    // Wrap so the same function can be subscribed twice and disposed independently.
    const entry = (data: T) => listener(data);
    this.#listeners.add(entry);
    return { dispose: () => this.#listeners.delete(entry) };
  };

  /** Number of current listeners. */
  get size(): number {
    return this.#listeners.size;
  }

  /** Call every listener with `data`. Never throws. */
  emit(data: T): void {
    for (const listener of this.#listeners) {
      try {
        listener(data);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
