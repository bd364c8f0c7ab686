import { redactUrl } from './redact-url';

/**
 * A readiness check: returns (or resolves) when the dependency is usable, throws when it is not.
 * `signal` aborts when the check runs past its timeout; checks that do I/O should honour it.
 */
export type ReadinessCheck = (signal: AbortSignal) => Promise<void> | void;

/** Longest check error message put in a `/readyz` body. */
const maxMessageLength = 300;

/**
 * Runs every check concurrently, each under `timeoutMs`; each result is `'ok'` or its scrubbed
 * error message. Never throws. Shared by the health server and the API's own /readyz.
 */
export async function runChecks(
  checks: Record<string, ReadinessCheck>,
  timeoutMs: number,
): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(checks).map(
      async ([name, check]) => [name, await runCheck(check, timeoutMs)] as const,
    ),
  );
  return Object.fromEntries(entries);
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`check timed out after ${timeoutMs} ms`);
      controller.abort(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    // new Promise(...) turns a synchronous throw of the check into a rejection.
    await Promise.race([
      new Promise<void>((resolve) => resolve(check(controller.signal))),
      timedOut,
    ]);
    return 'ok';
  } catch (caught) {
    const message = caught instanceof Error ? caught.message : String(caught);
    return redactUrl(message || 'check failed').slice(0, maxMessageLength);
  } finally {
    clearTimeout(timer);
  }
}
