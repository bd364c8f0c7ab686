import { AppError, isAppError } from '@agentry/schema';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultLlmPolicy,
  guardProvider,
  type LlmEvent,
  type LlmPolicyOptions,
} from './guarded-provider';
import { openAiCompatibleProvider } from './openai-compatible-provider';
import { startFakeLlmServer } from './testing';

const server = await startFakeLlmServer();
afterAll(() => server.close());
beforeEach(() => server.reset());

const request = {
  system: 'be brief',
  messages: [{ role: 'user' as const, content: 'hi' }],
};
const ok = { kind: 'ok', content: 'fine' } as const;
const fail500 = { kind: 'status', status: 500 } as const;

const policy: LlmPolicyOptions = {
  ...defaultLlmPolicy,
  attemptTimeoutMs: 300,
  maxAttempts: 3,
  backoff: { initialMs: 100, maxMs: 2_000 },
  breaker: {
    threshold: 0.5,
    windowMs: 60_000,
    minCalls: 4,
    halfOpenAfterMs: 10_000,
    halfOpenProbes: 1,
  },
  retryBudget: { maxTokens: 100, tokenRatio: 1 },
};

/** A guarded provider on a hand-driven clock whose waits are recorded, not slept. */
function setup(options: Partial<LlmPolicyOptions> = {}) {
  let now = 1_000_000;
  const waits: number[] = [];
  const events: LlmEvent[] = [];
  const guarded = guardProvider(
    openAiCompatibleProvider({
      baseUrl: `${server.url}/v1`,
      apiKey: () => 'test-key',
      model: 'gpt-test',
      timeoutMs: 5_000,
      name: 'primary',
    }),
    { ...policy, ...options },
    (event) => events.push(event),
    {
      clock: { now: () => now },
      random: () => 0.5,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    },
  );
  return { guarded, waits, events, advance: (ms: number) => (now += ms) };
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const caught: unknown = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!isAppError(caught)) throw new Error(`expected an AppError, got ${String(caught)}`);
  return caught;
}

describe('guardProvider', () => {
  it('retries a 500 with jittered backoff and answers once the provider does', async () => {
    const { guarded, waits, events } = setup();
    server.script(fail500, fail500, ok);
    const answer = await guarded.complete(request);
    expect(answer.content).toBe('fine');
    expect(server.requests).toHaveLength(3);
    // Full jitter at random() = 0.5: half of 100 ms, then half of 200 ms.
    expect(waits).toEqual([50, 100]);
    expect(
      events.filter((e) => e.type === 'retry').map((e) => e.type === 'retry' && e.attempt),
    ).toEqual([1, 2]);
  });

  it('never makes more than maxAttempts calls, then rejects with the provider error', async () => {
    const { guarded, events } = setup({ breaker: { ...policy.breaker, minCalls: 100 } });
    server.script(fail500, fail500, fail500, fail500);
    const error = await failure(guarded.complete(request));
    expect(error.code).toBe('TRANSIENT');
    expect(server.requests).toHaveLength(3);
    expect(events.at(-1)).toMatchObject({ type: 'give-up', attempts: 3, reason: 'attempts' });
  });

  it('waits exactly as long as Retry-After says, and gives up at once when it is too long', async () => {
    const { guarded, waits } = setup();
    server.script({ kind: 'status', status: 429, retryAfter: '1' }, ok);
    await guarded.complete(request);
    expect(waits).toEqual([1_000]);

    server.reset();
    server.script({ kind: 'status', status: 429, retryAfter: '120' }, ok);
    const error = await failure(guarded.complete(request));
    expect(error.code).toBe('RATE_LIMITED');
    // Marked for a slower outer layer (a step's backoff) that may still honour the wait.
    expect(error.details).toMatchObject({ retryAfterMs: 120_000, deferred: true });
    expect(server.requests).toHaveLength(1);
  });

  it('does not retry a rejected credential or a bad request', async () => {
    const { guarded } = setup();
    server.script({ kind: 'status', status: 401 });
    expect((await failure(guarded.complete(request))).code).toBe('POLICY_DENIED');
    server.script({ kind: 'status', status: 400 });
    expect((await failure(guarded.complete(request))).code).toBe('VALIDATION');
    expect(server.requests).toHaveLength(2);
  });

  it('opens on failures, rejects without calling the provider, and closes after a good probe', async () => {
    const { guarded, events, advance } = setup({ maxAttempts: 1 });
    const seen: LlmEvent[] = [];
    server.script(fail500, fail500, fail500, fail500);
    for (let i = 0; i < 4; i++)
      await failure(guarded.complete(request, undefined, (e) => seen.push(e)));
    expect(guarded.breakerState).toBe('OPEN');
    expect(server.requests).toHaveLength(4);
    // The request whose failure opened the circuit heard the transition itself.
    expect(seen).toContainEqual(expect.objectContaining({ type: 'breaker', to: 'OPEN' }));

    const rejected = await failure(guarded.complete(request));
    expect(rejected.code).toBe('UNAVAILABLE');
    expect(rejected.details?.retryAfterMs).toBe(10_000);
    expect(server.requests).toHaveLength(4);

    advance(10_000);
    server.script(ok);
    expect((await guarded.complete(request)).content).toBe('fine');
    expect(guarded.breakerState).toBe('CLOSED');
    expect(server.requests).toHaveLength(5);
    expect(
      events.filter((e) => e.type === 'breaker').map((e) => e.type === 'breaker' && e.to),
    ).toEqual(['OPEN', 'HALF_OPEN', 'CLOSED']);
  });

  it('re-opens when the half-open probe fails', async () => {
    const { guarded, advance } = setup({ maxAttempts: 1 });
    server.script(fail500, fail500, fail500, fail500, fail500);
    for (let i = 0; i < 4; i++) await failure(guarded.complete(request));
    advance(10_000);
    await failure(guarded.complete(request));
    expect(guarded.breakerState).toBe('OPEN');
    await failure(guarded.complete(request));
    expect(server.requests).toHaveLength(5);
  });

  it('counts an answer the request refuses as a failure of the provider, and never retries it', async () => {
    const { guarded, events, advance } = setup();
    server.setMode(ok);
    const refusal = new AppError('PLAN_INVALID', 'not a plan', { retryable: false });
    const refusing = {
      ...request,
      acceptAnswer: () => {
        throw refusal;
      },
    };
    for (let i = 0; i < 4; i++) expect(await failure(guarded.complete(refusing))).toBe(refusal);
    // One call each: a retry would get the same nonsense; the caller repairs it instead.
    expect(server.requests).toHaveLength(4);
    expect(events.filter((e) => e.type === 'retry')).toEqual([]);
    expect(guarded.breakerState).toBe('OPEN');

    // A probe answered with nonsense opens the circuit again, as a 500 would.
    advance(10_000);
    await failure(guarded.complete(refusing));
    expect(guarded.breakerState).toBe('OPEN');
    advance(10_000);
    expect((await guarded.complete({ ...request, acceptAnswer: () => undefined })).content).toBe(
      'fine',
    );
    expect(guarded.breakerState).toBe('CLOSED');
  });

  it('cuts a hung call off at the attempt deadline and closes its socket', async () => {
    const { guarded, events } = setup({ maxAttempts: 1 });
    server.script({ kind: 'hang' });
    const error = await failure(guarded.complete(request));
    expect(error.code).toBe('TIMEOUT');
    expect(events).toContainEqual(expect.objectContaining({ type: 'timeout', timeoutMs: 300 }));
    await expect.poll(() => server.openHungRequests(), { timeout: 2_000 }).toBe(0);
  });

  it('tells each concurrent request only its own events', async () => {
    const { guarded } = setup({ maxAttempts: 1 });
    server.script({ kind: 'hang' }, { kind: 'ok', content: 'fine', delayMs: 50 });
    const heardA: LlmEvent[] = [];
    const heardB: LlmEvent[] = [];
    const [a, b] = await Promise.allSettled([
      guarded.complete(request, undefined, (e) => heardA.push(e)),
      guarded.complete(request, undefined, (e) => heardB.push(e)),
    ]);
    expect(a.status).toBe('rejected');
    expect(b.status).toBe('fulfilled');
    expect(heardA.map((e) => e.type)).toEqual(['timeout', 'give-up']);
    expect(heardB).toEqual([]);
  });

  it('stops retrying during an outage once the shared retry budget runs low', async () => {
    const { guarded } = setup({
      retryBudget: { maxTokens: 4, tokenRatio: 0.1 },
      breaker: { ...policy.breaker, minCalls: 1_000 },
    });
    for (let i = 0; i < 20; i++) server.script(fail500);
    const burst = 10;
    await Promise.all(Array.from({ length: burst }, () => failure(guarded.complete(request))));
    // Without the budget: 10 × 3 = 30 calls. With it, retries stop once half the bucket is spent.
    expect(server.requests.length).toBeLessThanOrEqual(burst + 2);
  });
});
