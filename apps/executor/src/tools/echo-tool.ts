import { AppError } from '@agentry/schema';
import { z } from 'zod';
import { defineTool } from './tool';

export const EchoInput = z.strictObject({
  message: z.string().max(10_000).optional(),
  data: z.json().optional(),
  fail: z
    .enum(['transient', 'fatal'])
    .describe(
      'Throw a TRANSIENT (retried) or a fatal TOOL_FAILED error, to rehearse failure paths.',
    )
    .optional(),
});
export type EchoInput = z.output<typeof EchoInput>;

export const EchoOutput = z.object({ message: z.string().optional(), data: z.json().optional() });
export type EchoOutput = z.output<typeof EchoOutput>;

/**
 * `echo`: return `message` and `data` unchanged, or throw on demand (`fail`) so operators can
 * drill retries, dead letters and compensation. Its compensation only logs.
 */
export const echoTool = defineTool({
  name: 'echo',
  description:
    'Return message and data unchanged. With fail: "transient" or "fatal" it throws, for drills.',
  input: EchoInput,
  output: EchoOutput,
  risk: 'low',
  estimatedMs: 1,
  async run(input, ctx) {
    if (input.fail === 'transient') {
      throw new AppError('TRANSIENT', 'echo: rehearsed transient failure', {
        details: { attempt: ctx.attempt },
      });
    }
    if (input.fail === 'fatal') {
      throw new AppError('TOOL_FAILED', 'echo: rehearsed fatal failure', {
        retryable: false,
        details: { attempt: ctx.attempt },
      });
    }
    return { message: input.message, data: input.data };
  },
  async compensate(_input, _output, ctx) {
    ctx.log.info({ runId: ctx.runId, stepId: ctx.stepId }, 'echo compensated (nothing to undo)');
  },
});
