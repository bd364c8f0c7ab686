import { AppError } from '@agentry/schema';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtinTools } from './builtin-tools';
import { testToolContext } from './testing/test-tool-context';
import { defineTool } from './tool';
import { createToolRegistry } from './tool-registry';

const double = defineTool({
  name: 'math.double',
  description: 'Double a number.',
  input: z.strictObject({ n: z.number(), label: z.string().default('x') }),
  output: z.object({ result: z.number() }),
  risk: 'low',
  run: async ({ n }) => ({ result: n * 2 }),
});

const broken = defineTool({
  name: 'broken.output',
  description: 'Returns what its schema forbids.',
  input: z.object({}),
  output: z.object({ ok: z.literal(true) }),
  risk: 'low',
  run: async () => ({ ok: 'yes' }) as unknown as { ok: true },
});

const throwing = defineTool({
  name: 'broken.throws',
  description: 'Throws a non-AppError.',
  input: z.object({ what: z.enum(['string', 'app']) }),
  output: z.object({}),
  risk: 'low',
  run: async ({ what }) => {
    if (what === 'app') throw new AppError('CONFLICT', 'already done');
    throw 'a bare string';
  },
});

const deaf = defineTool({
  name: 'deaf.tool',
  description: 'Ignores its signal.',
  input: z.object({}),
  output: z.object({}),
  risk: 'low',
  run: () => new Promise<Record<string, never>>(() => undefined),
});

const registry = createToolRegistry([double, broken, throwing, deaf]);

describe('createToolRegistry', () => {
  it('lists tools with their input JSON Schema', () => {
    expect([...registry.names()]).toEqual([
      'math.double',
      'broken.output',
      'broken.throws',
      'deaf.tool',
    ]);
    expect(registry.get('math.double')).toBe(double);
    expect(registry.get('nope')).toBeUndefined();
    const [first] = registry.list();
    expect(first).toMatchObject({
      name: 'math.double',
      risk: 'low',
      description: 'Double a number.',
    });
    expect(first?.inputJsonSchema).toMatchObject({
      type: 'object',
      properties: { n: { type: 'number' }, label: { type: 'string', default: 'x' } },
      required: ['n'],
    });
  });

  it('throws at construction on duplicate or malformed names', () => {
    expect(() => createToolRegistry([double, double])).toThrow(/duplicate tool name "math.double"/);
    expect(() => createToolRegistry([{ ...double, name: 'Bad Name' }])).toThrow(
      /invalid tool name/,
    );
  });

  it('parses input (defaults applied) and returns the parsed output', async () => {
    await expect(registry.invoke('math.double', { n: 21 }, testToolContext())).resolves.toEqual({
      result: 42,
    });
  });

  it('rejects an unknown tool with UNKNOWN_TOOL', async () => {
    await expect(registry.invoke('shell.exec', {}, testToolContext())).rejects.toMatchObject({
      code: 'UNKNOWN_TOOL',
      retryable: false,
      details: { tool: 'shell.exec' },
    });
  });

  it('rejects invalid input with a non-retryable VALIDATION listing the issues', async () => {
    const error = await registry
      .invoke('math.double', { n: 'two', extra: 1 }, testToolContext())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'VALIDATION',
      message: 'input for tool math.double is invalid',
      retryable: false,
    });
    const issues = (error as AppError).details?.issues as Array<{ path: string; code: string }>;
    expect(issues.map((i) => i.path).sort()).toEqual(['', 'n']);
  });

  it('rejects output that breaks the schema with a non-retryable TOOL_FAILED', async () => {
    await expect(registry.invoke('broken.output', {}, testToolContext())).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      retryable: false,
      message: 'output of tool broken.output is invalid',
    });
  });

  it('passes AppErrors through and wraps anything else as retryable TOOL_FAILED', async () => {
    await expect(
      registry.invoke('broken.throws', { what: 'app' }, testToolContext()),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    const error = await registry
      .invoke('broken.throws', { what: 'string' }, testToolContext())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TOOL_FAILED', retryable: true, message: 'a bare string' });
  });

  it('maps an abort to TIMEOUT or CANCELLED even when the tool ignores its signal', async () => {
    await expect(
      registry.invoke('deaf.tool', {}, testToolContext({ signal: AbortSignal.timeout(20) })),
    ).rejects.toMatchObject({ code: 'TIMEOUT', retryable: true });
    const controller = new AbortController();
    const pending = registry.invoke(
      'deaf.tool',
      {},
      testToolContext({ signal: controller.signal }),
    );
    controller.abort(new Error('worker shutting down'));
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED', retryable: false });
    await expect(
      registry.invoke('math.double', { n: 1 }, testToolContext({ signal: AbortSignal.abort() })),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('registers the built-in tools with JSON Schemas', () => {
    const builtins = createToolRegistry(builtinTools({ http: {} }));
    expect([...builtins.names()].sort()).toEqual([
      'echo',
      'http.request',
      'llm.generate',
      'wait',
      'webhook.notify',
    ]);
    for (const tool of builtins.list())
      expect(tool.inputJsonSchema).toHaveProperty('type', 'object');
    expect(builtins.get('http.request')?.risk).toBe('medium');
  });
});
