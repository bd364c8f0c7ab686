/**
 * Something with a deadline: `onDeadline` runs once if it is still tracked when the deadline
 * passes. It must not throw.
 */
export interface Expiring {
  /** Set by `track` (milliseconds on the `now` clock). */
  deadline: number;
  onDeadline(): void;
}

export interface AttemptDeadlines {
  /** Call `item.onDeadline()` once `timeoutMs` have passed, unless `untrack` comes first. */
  track(item: Expiring, timeoutMs: number): void;
  /** Forget an item (its attempt ended). Cheap; safe for an item not tracked. */
  untrack(item: Expiring, timeoutMs: number): void;
  /** Items being tracked. */
  size(): number;
  /** Stop the timer; tracked items never expire. Safe to call twice. */
  close(): void;
}

/**
 * Attempt timeouts for a worker with one timer in all, instead of a `setTimeout` (and its
 * closure and promise) per job.
 *
 * Items are kept in one insertion-ordered set per timeout length: with a monotonic clock, the
 * deadlines inside a set only grow, so the first item of each set is its earliest and tracking or
 * untracking is O(1). A single unref'd timer is armed for the earliest head; when it fires it
 * expires every head already due and re-arms for the next one. An untracked head does not
 * re-arm the timer: the timer then fires at a deadline that is gone, finds nothing due and re-arms
 * for the new earliest head, so a drain of short jobs costs about one timer per `timeoutMs`.
 *
 * Precision: a deadline fires no earlier than due and, on an idle loop, within a millisecond or
 * two of it (the timer is armed for the exact earliest deadline).
 */
export function createAttemptDeadlines(
  now: () => number = () => performance.now(),
): AttemptDeadlines {
  const byTimeout = new Map<number, Set<Expiring>>();
  let tracked = 0;
  let timer: NodeJS.Timeout | undefined;
  let armedFor = Number.POSITIVE_INFINITY;
  let closed = false;

  const arm = (deadline: number): void => {
    if (closed || deadline >= armedFor) return;
    if (timer !== undefined) clearTimeout(timer);
    armedFor = deadline;
    timer = setTimeout(sweep, Math.max(1, Math.ceil(deadline - now())));
    timer.unref();
  };

  const sweep = (): void => {
    timer = undefined;
    armedFor = Number.POSITIVE_INFINITY;
    const t = now();
    const due: Expiring[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const items of byTimeout.values()) {
      for (const item of items) {
        if (item.deadline > t) {
          next = Math.min(next, item.deadline);
          break;
        }
        items.delete(item);
        tracked -= 1;
        due.push(item);
      }
    }
    if (next !== Number.POSITIVE_INFINITY) arm(next);
    for (const item of due) item.onDeadline();
  };

  return {
    track(item, timeoutMs) {
      item.deadline = now() + timeoutMs;
      let items = byTimeout.get(timeoutMs);
      if (!items) {
        items = new Set();
        byTimeout.set(timeoutMs, items);
      }
      items.add(item);
      tracked += 1;
      arm(item.deadline);
    },
    untrack(item, timeoutMs) {
      if (byTimeout.get(timeoutMs)?.delete(item)) tracked -= 1;
    },
    size: () => tracked,
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
