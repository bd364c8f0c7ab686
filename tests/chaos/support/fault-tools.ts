import type { HttpRequestInput, HttpRequestOutput, ToolDefinition } from '@agentry/executor';

/**
 * Request headers the chaos executor acts on (they are sent to the sink too, which ignores them):
 * - `x-chaos-crash: after-effect` — once the sink has answered (the effect is applied), the
 *   process kills itself with SIGKILL, as an out-of-memory kill would: a poison step that takes
 *   down every worker that runs it.
 * - `x-chaos-block-ms: N` — when the sink says this was the key's first delivery, the event loop
 *   is blocked (busy wait) for N ms before the tool returns: the worker cannot renew its lock.
 */
export const faultHeaders = { crash: 'x-chaos-crash', blockMs: 'x-chaos-block-ms' } as const;

/** The worker's name on every request it sends, so the sink can tell deliveries apart. */
export const workerHeader = 'x-chaos-worker';

/**
 * Wrap the built-in `http.request` with the faults above and tag every request with `worker`.
 * Every other tool is returned unchanged. Test-only: the tool's name, input and output are the
 * built-in's, so the planner validates chaos plans like any other.
 */
export function withFaults(tools: ToolDefinition[], worker: string): ToolDefinition[] {
  return tools.map((tool) =>
    tool.name === 'http.request'
      ? faultyHttpRequest(
          tool as unknown as ToolDefinition<HttpRequestInput, HttpRequestOutput>,
          worker,
        )
      : tool,
  );
}

function faultyHttpRequest(
  inner: ToolDefinition<HttpRequestInput, HttpRequestOutput>,
  worker: string,
): ToolDefinition {
  const wrapped: ToolDefinition<HttpRequestInput, HttpRequestOutput> = {
    ...inner,
    async run(input, ctx) {
      const headers: Record<string, string> = { ...input.headers, [workerHeader]: worker };
      const output = await inner.run({ ...input, headers }, ctx);
      if (headers[faultHeaders.crash] === 'after-effect') process.kill(process.pid, 'SIGKILL');
      const blockMs = Number(headers[faultHeaders.blockMs] ?? 0);
      if (blockMs > 0 && firstDelivery(output.body)) {
        ctx.log.warn({ blockMs }, 'chaos: blocking the event loop');
        const until = Date.now() + blockMs;
        while (Date.now() < until) {
          // Busy wait on purpose: no timer, no I/O, no lock renewal.
        }
      }
      return output;
    },
  };
  return wrapped as unknown as ToolDefinition;
}

function firstDelivery(body: string): boolean {
  try {
    return (JSON.parse(body) as { deliveries?: unknown }).deliveries === 1;
  } catch {
    return false;
  }
}
