import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StepInput } from '@agentry/schema';
import { faultHeaders } from './fault-tools';

/** Intents the chaos templates plan; `tag` is unique per intent and names its effects. */
export const chaosIntent = {
  /** `a` → (`b`, `c`) → `notify`: three http.request POSTs and a signed webhook.notify. */
  run: (tag: string) => `chaos run ${tag}`,
  /** One http.request POST the sink answers after `slowMs` (longer than a drain deadline). */
  slow: (tag: string) => `chaos slow ${tag}`,
  /** One http.request POST after which the worker kills itself (a poison step). */
  poison: (tag: string) => `chaos poison ${tag}`,
  /** One http.request POST after whose first delivery the worker's event loop is blocked. */
  block: (tag: string) => `chaos block ${tag}`,
};

/** Steps of a `chaos run` plan that call the sink. */
export const runStepIds = ['a', 'b', 'c', 'notify'] as const;

export interface ChaosTemplateOptions {
  sinkUrl: string;
  /** How long the sink holds the answer of each normal step. */
  delayMs: number;
  /** How long the sink holds the answer of the `chaos slow` step. @default 6000 */
  slowMs?: number;
  /** How long `chaos block` blocks its first worker's event loop. @default 8000 */
  blockMs?: number;
  /** How long the sink holds the answer to a *retried* `chaos block` call. @default 0 */
  blockRetryDelayMs?: number;
}

/**
 * The steps of a `chaos run` plan (`a` → (`b`, `c`) → `notify`) with `{{tag}}` placeholders: what
 * the `chaos-run` template plans, and what a scenario's fake model answers for the same intent.
 */
export function chaosRunSteps(sinkUrl: string, delayMs: number): StepInput[] {
  const post = sinkPost(sinkUrl);
  return [
    { id: 'a', tool: 'http.request', input: post('a', delayMs) },
    { id: 'b', tool: 'http.request', input: post('b', delayMs), dependsOn: ['a'] },
    { id: 'c', tool: 'http.request', input: post('c', delayMs), dependsOn: ['a'] },
    {
      id: 'notify',
      tool: 'webhook.notify',
      input: {
        url: `${sinkUrl}/hooks/{{tag}}`,
        event: 'chaos.done',
        payload: { effect: '{{tag}}:notify' },
      },
      dependsOn: ['b', 'c'],
    },
  ];
}

/** Write the templates file the planner reads (`AGENTRY_PLANNER_TEMPLATES_FILE`); returns its path. */
export async function writeChaosTemplates(options: ChaosTemplateOptions): Promise<string> {
  const { sinkUrl, delayMs, slowMs = 6_000, blockMs = 8_000, blockRetryDelayMs = 0 } = options;
  const post = sinkPost(sinkUrl);
  const single = (id: string, input: Record<string, unknown>): StepInput[] => [
    { id, tool: 'http.request', input, timeoutMs: 60_000 },
  ];
  const templates = [
    {
      id: 'chaos-run',
      pattern: '^chaos run (?<tag>[a-z0-9-]+)$',
      summary: 'Chaos workload {{tag}}',
      steps: chaosRunSteps(sinkUrl, delayMs),
    },
    {
      id: 'chaos-slow',
      pattern: '^chaos slow (?<tag>[a-z0-9-]+)$',
      summary: 'Slow chaos step {{tag}}',
      steps: single('slow', post('slow', slowMs)),
    },
    {
      id: 'chaos-poison',
      pattern: '^chaos poison (?<tag>[a-z0-9-]+)$',
      summary: 'Poison chaos step {{tag}}',
      steps: single(
        'poison',
        post('poison', 0, { headers: { [faultHeaders.crash]: 'after-effect' } }),
      ),
    },
    {
      id: 'chaos-block',
      pattern: '^chaos block (?<tag>[a-z0-9-]+)$',
      summary: 'Event-loop blocking chaos step {{tag}}',
      steps: single(
        'block',
        post('block', 0, {
          headers: { [faultHeaders.blockMs]: String(blockMs) },
          retryDelayMs: blockRetryDelayMs,
        }),
      ),
    },
  ];
  const dir = await mkdtemp(join(tmpdir(), 'agentry-chaos-'));
  const path = join(dir, 'templates.json');
  await writeFile(path, JSON.stringify({ templates }, null, 2));
  return path;
}

/** A POST to the sink for `step` of `{{tag}}`, answered after `delay` ms (http.request input). */
function sinkPost(sinkUrl: string) {
  return (
    step: string,
    delay: number,
    extra: { headers?: Record<string, string>; retryDelayMs?: number } = {},
  ): Record<string, unknown> => ({
    url: `${sinkUrl}/effects/{{tag}}/${step}?delayMs=${delay}${
      extra.retryDelayMs === undefined ? '' : `&retryDelayMs=${extra.retryDelayMs}`
    }`,
    method: 'POST',
    headers: extra.headers ?? {},
    body: { effect: `{{tag}}:${step}` },
    // The sink honours Idempotency-Key, so a POST whose answer was lost may be sent again.
    idempotent: true,
    timeoutMs: Math.max(delay, extra.retryDelayMs ?? 0) + 10_000,
  });
}
