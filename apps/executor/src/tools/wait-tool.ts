import { z } from 'zod';
import { abortError } from './abort-error';
import { defineTool } from './tool';

export const WaitInput = z.strictObject({ ms: z.number().int().min(0).max(600_000) });
export const WaitOutput = z.object({ waitedMs: z.number().int().nonnegative() });

/**
 * `wait`: resolve after `ms` milliseconds; reject at once with `TIMEOUT` / `CANCELLED` when
 * `ctx.signal` aborts, clearing its timer. Keep `ms` below the step timeout.
 */
export const waitTool = defineTool({
  name: 'wait',
  description:
    'Pause the plan for ms milliseconds (at most 10 minutes), e.g. to let a deploy settle.',
  input: WaitInput,
  output: WaitOutput,
  risk: 'low',
  estimate: ({ ms }) => ({ ms }),
  run: ({ ms }, ctx) =>
    new Promise<{ waitedMs: number }>((resolve, reject) => {
      if (ctx.signal.aborted) {
        reject(abortError(ctx.signal));
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortError(ctx.signal));
      };
      const timer = setTimeout(() => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve({ waitedMs: ms });
      }, ms);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    }),
});
