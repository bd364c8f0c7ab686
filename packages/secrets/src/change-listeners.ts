import { toError } from '@agentry/schema';

/** Listeners of value changes per reference (see {@link createChangeListeners}). */
export interface ChangeListeners {
  /** Add `listener` for `key`; returns a function that removes it. */
  add(key: string, listener: (value: string) => void): () => void;
  /**
   * Call the listeners of `key` with `value`, in the order they were added. A listener that
   * throws, or returns a promise that rejects, is reported to `onError` and the others still run.
   * Never throws.
   */
  notify(key: string, value: string): void;
  clear(): void;
}

/** A {@link ChangeListeners} whose failing listeners are reported to `onError`. */
export function createChangeListeners(
  onError: (error: Error, key: string) => void,
): ChangeListeners {
  const byKey = new Map<string, Set<(value: string) => void>>();
  const report = (caught: unknown, key: string) => {
    try {
      onError(toError(caught), key);
    } catch {
      // The error hook itself failed: nothing is left to tell.
    }
  };

  return {
    add(key, listener) {
      // Wrap so the same function added twice is two subscriptions, each removed by its own call.
      const entry = (value: string) => listener(value);
      const set = byKey.get(key) ?? new Set();
      set.add(entry);
      byKey.set(key, set);
      return () => {
        set.delete(entry);
        if (set.size === 0 && byKey.get(key) === set) byKey.delete(key);
      };
    },
    notify(key, value) {
      for (const listener of [...(byKey.get(key) ?? [])]) {
        try {
          const result: unknown = listener(value);
          if (result instanceof Promise) result.catch((caught: unknown) => report(caught, key));
        } catch (caught) {
          report(caught, key);
        }
      }
    },
    clear() {
      byKey.clear();
    },
  };
}
