import { describe, expect, it, vi } from 'vitest';
import { echoTool } from './echo-tool';
import { testToolContext } from './testing/test-tool-context';

describe('echo', () => {
  it('returns message and data', async () => {
    await expect(
      echoTool.run({ message: 'hi', data: { a: [1, null] } }, testToolContext()),
    ).resolves.toEqual({
      message: 'hi',
      data: { a: [1, null] },
    });
  });

  it('throws a retryable TRANSIENT or a fatal TOOL_FAILED on demand', async () => {
    await expect(echoTool.run({ fail: 'transient' }, testToolContext())).rejects.toMatchObject({
      code: 'TRANSIENT',
      retryable: true,
    });
    await expect(echoTool.run({ fail: 'fatal' }, testToolContext())).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      retryable: false,
    });
  });

  it('compensates by logging only', async () => {
    const info = vi.fn();
    const log = { debug: vi.fn(), info, warn: vi.fn(), error: vi.fn() };
    await echoTool.compensate?.({}, {}, testToolContext({ log }));
    expect(info).toHaveBeenCalledOnce();
  });
});
