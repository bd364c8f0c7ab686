import { describe, expect, it } from 'vitest';
import {
  AppError,
  classify,
  dispositionOf,
  errorCodeList,
  isAppError,
  toAppError,
  toError,
} from './errors';

describe('errors', () => {
  it('classifies every code, and never retries validation or programmer-facing codes', () => {
    for (const code of errorCodeList) expect(['retry', 'fatal']).toContain(classify(code));
    for (const code of ['VALIDATION', 'PLAN_INVALID', 'UNKNOWN_TOOL', 'BUDGET_EXCEEDED'] as const) {
      expect(classify(code)).toBe('fatal');
    }
    expect(classify('TIMEOUT')).toBe('retry');
  });

  it('recognises AppErrors by marker, not instanceof', () => {
    const foreign = Object.assign(new Error('x'), {
      __agentryAppError: true,
      code: 'TIMEOUT',
      retryable: true,
    });
    expect(isAppError(foreign)).toBe(true);
    expect(isAppError(new Error('x'))).toBe(false);
    expect(isAppError(null)).toBe(false);
  });

  it('coerces anything thrown', () => {
    expect(toError('boom').message).toBe('boom');
    expect(toError({ a: 1 }).message).toBe('{"a":1}');
    const abort = toAppError(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    expect(abort.code).toBe('CANCELLED');
    expect(dispositionOf(new AppError('VALIDATION', 'bad'))).toBe('fatal');
    expect(dispositionOf(new AppError('TOOL_FAILED', 'final', { retryable: false }))).toBe('fatal');
    expect(dispositionOf(new Error('unknown'))).toBe('retry');
  });
});
