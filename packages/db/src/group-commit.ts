/** Options of {@link groupCommit}. */
export interface GroupCommitOptions<I, O> {
  /** Do one item on its own (a batch of one, and the retry of a refused batch's items). */
  one: (item: I) => Promise<O>;
  /** Do several items in one round trip; answers by position. */
  many: (items: readonly I[]) => Promise<O[]>;
  /**
   * Whether an error of `many` means the server refused the whole batch and applied none of it
   * (a Postgres error: the statement, hence its transaction, was rolled back), so each item is
   * retried alone and only the item at fault fails. Anything else (a lost connection: the batch
   * may have committed) reaches every caller of the batch, as it would have reached each alone.
   */
  refused: (error: unknown) => boolean;
  /** @default 64 */
  maxBatch?: number;
  /** Batches in flight at once. @default 1 */
  maxInFlight?: number;
}

interface Waiter<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: a call made while `maxInFlight` batches are in flight waits, and goes with every
 * call that arrived meanwhile as the next batch (up to `maxBatch`), in one round trip. A call made
 * when fewer are in flight goes at once, so an idle process pays no added latency and a busy one
 * makes one round trip for many calls. Each caller's promise settles with its own result once the
 * batch that carried it has finished (committed), never before.
 */
export function groupCommit<I, O>(options: GroupCommitOptions<I, O>): (item: I) => Promise<O> {
  const maxBatch = options.maxBatch ?? 64;
  const maxInFlight = options.maxInFlight ?? 1;
  const waiting: Array<Waiter<I, O>> = [];
  let inFlight = 0;

  const settleAlone = (w: Waiter<I, O>): Promise<void> =>
    Promise.resolve()
      .then(() => options.one(w.item))
      .then(w.resolve, w.reject);

  const send = async (batch: Array<Waiter<I, O>>): Promise<void> => {
    if (batch.length === 1) return settleAlone(batch[0] as Waiter<I, O>);
    let results: O[];
    try {
      results = await options.many(batch.map((w) => w.item));
    } catch (e) {
      if (!options.refused(e)) {
        for (const w of batch) w.reject(e);
        return;
      }
      await Promise.all(batch.map(settleAlone));
      return;
    }
    batch.forEach((w, i) => {
      if (i < results.length) w.resolve(results[i] as O);
      else w.reject(new Error(`batch answered ${results.length} of ${batch.length} items`));
    });
  };

  const pump = (): void => {
    while (inFlight < maxInFlight && waiting.length > 0) {
      const batch = waiting.splice(0, maxBatch);
      inFlight += 1;
      void send(batch)
        .catch((e: unknown) => {
          for (const w of batch) w.reject(e); // a no-op for those already settled
        })
        .finally(() => {
          inFlight -= 1;
          pump();
        });
    }
  };

  return (item) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      pump();
    });
}

/**
 * A Postgres error reply to the statement (a severity and a SQLSTATE): the server rolled it back
 * and the session goes on. Not one that ends the session (connection exceptions, class 08;
 * authorization, 28; shut down or starting, 57P0x; too many connections, 53300) nor a socket
 * error, after which the outcome of the statement is not known. By SQLSTATE, since the severity
 * text is translated with the server's locale.
 */
export function isServerError(error: unknown): boolean {
  const e = error as { code?: unknown; severity?: unknown } | null;
  return (
    typeof e?.severity === 'string' &&
    typeof e.code === 'string' &&
    /^[0-9A-Z]{5}$/.test(e.code) &&
    !/^(08|28|57P0)|^53300$/.test(e.code)
  );
}
