import type { ToolContext, ToolLogger } from '../tool';

const silent: ToolLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A ToolContext for tests: a fresh signal (unless given), a silent logger, fixed ids. */
export function testToolContext(overrides: Partial<ToolContext> = {}): ToolContext {
  return {
    signal: new AbortController().signal,
    log: silent,
    runId: 'run-1',
    stepId: 'step-1',
    attempt: 1,
    idempotencyKey: 'run-1.step-1',
    ...overrides,
  };
}
