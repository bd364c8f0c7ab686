import { toError } from '@agentry/schema';

export interface StackLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Things to close, closed in reverse order of opening. Each close runs even if an earlier one
 * threw or hung; the whole teardown is bounded by a deadline. `close()` is safe to call twice.
 */
export class ResourceStack {
  readonly #entries: Array<{ name: string; close: () => Promise<unknown> | unknown }> = [];
  #closing: Promise<void> | undefined;

  constructor(private readonly log?: StackLogger) {}

  /** Register a resource; returns it for chaining at the point of creation. */
  push<T>(name: string, resource: T, close: (r: T) => Promise<unknown> | unknown): T {
    this.#entries.push({ name, close: () => close(resource) });
    return resource;
  }

  close(options: { deadlineMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#closeAll(options.deadlineMs ?? 10_000);
    return this.#closing;
  }

  async #closeAll(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    for (const entry of this.#entries.reverse()) {
      const left = Math.max(1, deadline - Date.now());
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(entry.close),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`closing ${entry.name} took over ${left} ms`)),
              left,
            );
          }),
        ]);
      } catch (e) {
        this.log?.warn({ err: toError(e), resource: entry.name }, 'resource did not close cleanly');
      } finally {
        clearTimeout(timer);
      }
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
