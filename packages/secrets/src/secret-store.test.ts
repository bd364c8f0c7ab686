import { AppError } from '@agentry/schema';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { envProvider } from './env-provider';
import type { SecretProvider, SecretValue } from './secret-provider';
import { createSecretStore, type SecretStoreOptions } from './secret-store';
import type { SecretAuditEvent } from './secret-store-contract';

const canary = 'canary-0000-not-a-secret';
const rotated = 'canary-1111-not-a-secret';
const ref = 'aws://agentry/test/db#password';

/** An in-memory backend that counts loads and can fail, hang or change its value. */
function fakeBackend() {
  const backend = {
    value: canary,
    version: 1,
    loads: 0,
    failure: undefined as unknown,
    /** While set, loads wait for it (to hold several callers in one flight). */
    gate: undefined as Promise<void> | undefined,
    signals: [] as AbortSignal[],
    closed: 0,
    provider: undefined as unknown as SecretProvider,
  };
  backend.provider = {
    scheme: 'aws',
    async get(_ref, signal) {
      backend.loads += 1;
      if (signal !== undefined) backend.signals.push(signal);
      if (backend.gate !== undefined) await backend.gate;
      if (backend.failure !== undefined) throw backend.failure;
      return { value: backend.value, version: `v${backend.version}` };
    },
    async rotate(_ref, newValue): Promise<SecretValue> {
      backend.value = newValue;
      backend.version += 1;
      return { value: newValue, version: `v${backend.version}` };
    },
    async close() {
      backend.closed += 1;
    },
  };
  return backend;
}

function deferred() {
  let release: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

function setup(overrides: Partial<SecretStoreOptions> = {}) {
  const backend = fakeBackend();
  const time = { now: 1_700_000_000_000 };
  const events: SecretAuditEvent[] = [];
  const store = createSecretStore({
    providers: [backend.provider, envProvider({ env: {}, production: false })],
    actor: 'test@host:1',
    ttlMs: 1_000,
    staleForMs: 5_000,
    staleRetryMs: 500,
    clock: () => time.now,
    onAudit: (event) => events.push(event),
    ...overrides,
  });
  const actions = () => events.map((e) => e.action);
  return { backend, time, events, actions, store };
}

const unavailable = () =>
  new AppError('UNAVAILABLE', 'Secrets Manager answered 503', { details: { status: 503 } });

describe('createSecretStore', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('serves from the cache within the TTL without loading', async () => {
    const { backend, store, events } = setup();
    await expect(store.get(ref)).resolves.toBe(canary);
    await expect(store.get(ref)).resolves.toBe(canary);
    expect(backend.loads).toBe(1);
    expect(events).toEqual([
      {
        action: 'read',
        ref,
        outcome: 'ok',
        actor: 'test@host:1',
        at: new Date(1_700_000_000_000),
        version: 'v1',
      },
    ]);
  });

  it('reloads after the TTL, audited as a refresh', async () => {
    const { backend, store, time, actions } = setup();
    await store.get(ref);
    time.now += 999;
    await store.get(ref);
    expect(backend.loads).toBe(1);
    time.now += 1;
    await store.get(ref);
    expect(backend.loads).toBe(2);
    expect(actions()).toEqual(['read', 'refresh']);
  });

  it('shares one load among concurrent callers', async () => {
    const { backend, store } = setup();
    const gate = deferred();
    backend.gate = gate.promise;
    const all = Promise.all(Array.from({ length: 5 }, () => store.get(ref)));
    gate.release();
    await expect(all).resolves.toEqual(Array(5).fill(canary));
    expect(backend.loads).toBe(1);
  });

  it('serves a stale value through an outage within the window, then fails clearly', async () => {
    const { backend, store, time, events, actions } = setup();
    await store.get(ref);
    backend.failure = unavailable();
    time.now += 1_000; // expired

    await expect(store.get(ref)).resolves.toBe(canary);
    expect(events.at(-1)).toMatchObject({
      action: 'stale',
      outcome: 'error',
      errorCode: 'UNAVAILABLE',
      version: 'v1',
      reason: expect.stringContaining('503'),
    });
    // Within staleRetryMs the backend is not asked again.
    time.now += 499;
    await expect(store.get(ref)).resolves.toBe(canary);
    expect(backend.loads).toBe(2);
    time.now += 1;
    await expect(store.get(ref)).resolves.toBe(canary);
    expect(backend.loads).toBe(3);

    time.now = 1_700_000_000_000 + 1_000 + 5_001; // past expiry + staleForMs
    const error = await store.get(ref).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect((error as Error).message).toContain(ref);
    expect((error as Error).message).toMatch(/stale window/);
    expect(actions()).toEqual(['read', 'stale', 'stale', 'failure']);
    expect(events.at(-1)).toMatchObject({ action: 'failure', errorCode: 'UNAVAILABLE' });
  });

  it('does not serve a stale value when the backend answers NOT_FOUND or POLICY_DENIED', async () => {
    const { backend, store, time, actions } = setup();
    await store.get(ref);
    backend.failure = new AppError('POLICY_DENIED', 'AccessDeniedException');
    time.now += 1_000;
    await expect(store.get(ref)).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    expect(actions()).toEqual(['read', 'failure']);
  });

  it('fails with the provider code and the reference when nothing was ever cached', async () => {
    const { backend, store, events } = setup();
    backend.failure = unavailable();
    const error = await store.get(ref).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', details: { status: 503 } });
    expect((error as Error).message).toBe(`${ref}: Secrets Manager answered 503`);
    expect(events).toMatchObject([{ action: 'failure', errorCode: 'UNAVAILABLE' }]);
  });

  it('never lets a known value out in a provider error', async () => {
    const { backend, store, time, events } = setup();
    await store.get(ref);
    backend.failure = new AppError('VALIDATION', `value "${canary}" is not valid`, {
      cause: new Error(`raw body: {"SecretString":"${canary}"}`),
    });
    time.now += 1_000;
    const error = await store.get(ref).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALIDATION' });
    const seen = [
      (error as Error).message,
      (error as Error).stack,
      ((error as Error).cause as Error).message,
      ((error as Error).cause as Error).stack,
      JSON.stringify(events),
    ].join('\n');
    expect(seen).toContain('[secret]');
    expect(seen).not.toContain(canary);
  });

  it('rejects an unknown scheme with VALIDATION naming it', async () => {
    const { store } = setup();
    await expect(store.get('vault://kv/agentry/llm#api_key')).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringContaining('vault://'),
    });
  });

  it('times out a load that does not answer, naming the reference', async () => {
    vi.useFakeTimers();
    const { backend, store } = setup({ loadTimeoutMs: 2_000 });
    backend.gate = new Promise(() => {}); // hangs and ignores its signal
    const pending = store.get(ref).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(2_000);
    const error = await pending;
    expect(error).toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining(ref) });
    expect(backend.signals[0]?.aborted).toBe(true);
  });

  it('lets one caller give up without failing the others; the load aborts when all have', async () => {
    const { backend, store } = setup();
    const gate = deferred();
    backend.gate = gate.promise;
    const leaving = new AbortController();
    const first = store.get(ref, leaving.signal);
    const second = store.get(ref, new AbortController().signal);
    leaving.abort();
    await expect(first).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(backend.signals[0]?.aborted).toBe(false);
    gate.release();
    await expect(second).resolves.toBe(canary);

    store.invalidate(ref);
    backend.gate = new Promise(() => {});
    const only = new AbortController();
    const third = store.get(ref, only.signal);
    only.abort();
    await expect(third).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(backend.signals[1]?.aborted).toBe(true);
  });

  it('invalidates one reference or all, audited with the reason', async () => {
    const { backend, store, events, actions } = setup();
    await store.get(ref);
    store.invalidate(ref, 'operator request');
    expect(events.at(-1)).toMatchObject({ action: 'invalidate', ref, reason: 'operator request' });
    await store.get(ref);
    expect(backend.loads).toBe(2);
    store.invalidate();
    await store.get(ref);
    expect(backend.loads).toBe(3);
    expect(actions()).toEqual(['read', 'invalidate', 'refresh', 'invalidate', 'refresh']);
  });

  it('does not serve an invalidated value stale', async () => {
    const { backend, store } = setup();
    await store.get(ref);
    store.invalidate(ref);
    backend.failure = unavailable();
    await expect(store.get(ref)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  describe('withSecret', () => {
    const rejectedBy = (good: string) => async (value: string) => {
      if (value !== good) {
        throw new AppError('POLICY_DENIED', 'password authentication failed', {
          details: { credentialRejected: true },
        });
      }
      return 'connected';
    };

    it('picks up a value rotated behind its back, once', async () => {
      const { backend, store } = setup();
      await store.get(ref);
      backend.value = rotated; // rotated in the backend; the cache still holds the old value
      const use = vi.fn(rejectedBy(rotated));
      await expect(store.withSecret(ref, use)).resolves.toBe('connected');
      expect(use.mock.calls).toEqual([[canary], [rotated]]);
      expect(backend.loads).toBe(2);
    });

    it('does not loop when the reloaded value is the same: the original error is rethrown', async () => {
      const { backend, store } = setup();
      const use = vi.fn(rejectedBy('something-else'));
      const error = await store.withSecret(ref, use).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'POLICY_DENIED',
        message: 'password authentication failed',
      });
      expect(use).toHaveBeenCalledTimes(1); // reloaded, same value: not tried again
      expect(backend.loads).toBe(2);
    });

    it('rethrows other errors without reloading', async () => {
      const { backend, store } = setup();
      const failure = new AppError('TOOL_FAILED', 'query failed');
      const use = vi.fn(async () => {
        throw failure;
      });
      await expect(store.withSecret(ref, use)).rejects.toBe(failure);
      expect(use).toHaveBeenCalledTimes(1);
      expect(backend.loads).toBe(1);
    });

    it('accepts a custom isRejected', async () => {
      const { backend, store } = setup();
      await store.get(ref);
      backend.value = rotated;
      const use = vi.fn(async (value: string) => {
        if (value !== rotated) throw Object.assign(new Error('401'), { status: 401 });
        return 'ok';
      });
      const isRejected = (e: unknown) => (e as { status?: number }).status === 401;
      await expect(store.withSecret(ref, use, { isRejected })).resolves.toBe('ok');
    });

    it('rethrows the original error when the reload fails', async () => {
      const { backend, store } = setup();
      await store.get(ref);
      backend.failure = unavailable();
      const use = vi.fn(rejectedBy(rotated));
      await expect(store.withSecret(ref, use)).rejects.toMatchObject({ code: 'POLICY_DENIED' });
      expect(use).toHaveBeenCalledTimes(1);
    });
  });

  describe('onChange', () => {
    it('fires once when a refresh loads a different value, not when it loads the same', async () => {
      const { backend, store, time } = setup();
      const listener = vi.fn();
      const stop = store.onChange(ref, listener);
      await store.get(ref);
      time.now += 1_000;
      await store.get(ref);
      expect(listener).not.toHaveBeenCalled();
      backend.value = rotated;
      time.now += 1_000;
      await store.get(ref);
      await store.get(ref);
      expect(listener.mock.calls).toEqual([[rotated]]);
      stop();
      backend.value = canary;
      time.now += 1_000;
      await store.get(ref);
      expect(listener).toHaveBeenCalledTimes(1);
    });

    it('reports a failing listener to onListenerError and still serves the value', async () => {
      const onListenerError = vi.fn();
      const { backend, store } = setup({ onListenerError });
      const after = vi.fn();
      store.onChange(ref, () => {
        throw new Error('listener bug');
      });
      store.onChange(ref, after);
      await store.get(ref);
      backend.value = rotated;
      store.invalidate(ref);
      await expect(store.get(ref)).resolves.toBe(rotated);
      expect(after).toHaveBeenCalledWith(rotated);
      expect(onListenerError).toHaveBeenCalledWith(expect.any(Error), { ref, hook: 'onChange' });
    });

    it('keeps working when the audit sink throws', async () => {
      const onListenerError = vi.fn();
      const { store } = setup({
        onListenerError,
        onAudit: () => {
          throw new Error('audit sink down');
        },
      });
      await expect(store.get(ref)).resolves.toBe(canary);
      expect(onListenerError).toHaveBeenCalledWith(expect.any(Error), { ref, hook: 'onAudit' });
    });
  });

  describe('rotate', () => {
    it('writes through the provider, updates the cache and notifies', async () => {
      const { backend, store, events } = setup();
      const listener = vi.fn();
      store.onChange(ref, listener);
      await store.get(ref);
      await expect(store.rotate(ref, rotated)).resolves.toEqual({ version: 'v2' });
      expect(events.at(-1)).toMatchObject({ action: 'rotate', outcome: 'ok', version: 'v2' });
      await expect(store.get(ref)).resolves.toBe(rotated);
      expect(backend.loads).toBe(1);
      expect(listener.mock.calls).toEqual([[rotated]]);
      expect(store.scrubber.scrub(`x ${rotated}`)).toBe('x [secret]');
    });

    it('makes other references to the same secret reload', async () => {
      const { backend, store } = setup();
      const other = 'aws://agentry/test/db#username';
      await store.get(other);
      await store.rotate(ref, rotated);
      await store.get(other);
      expect(backend.loads).toBe(2);
    });

    it('is refused for a provider that cannot rotate', async () => {
      const { store } = setup();
      await expect(store.rotate('env://AGENTRY_TEST_TOKEN', rotated)).rejects.toMatchObject({
        code: 'VALIDATION',
        message: 'rotation is not supported for env://',
      });
    });
  });

  describe('getParsed', () => {
    it('parses the value, or a JSON value, with the schema', async () => {
      const { backend, store } = setup();
      backend.value = JSON.stringify({ user: 'agentry', port: 5432 });
      const schema = z.object({ user: z.string(), port: z.number() });
      await expect(store.getParsed(ref, schema)).resolves.toEqual({ user: 'agentry', port: 5432 });
    });

    it('rejects a mismatch with VALIDATION naming the reference, not the value', async () => {
      const { store } = setup();
      const error = await store.getParsed(ref, z.string().url()).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining(ref) });
      expect(JSON.stringify({ error, message: (error as Error).message })).not.toContain(canary);
    });
  });

  it('closes its providers once, and refuses calls afterwards', async () => {
    const { backend, store } = setup();
    await store.get(ref);
    await store.close();
    await store[Symbol.asyncDispose]();
    expect(backend.closed).toBe(1);
    await expect(store.get(ref)).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('a load in flight when the secret is rotated does not bring the old value back', async () => {
    const { backend, store } = setup();
    const heard: string[] = [];
    store.onChange(ref, (value) => heard.push(value));
    await store.get(ref);
    // A reload starts (the entry was invalidated) and is held while the backend is slow.
    store.invalidate(ref);
    const gate = deferred();
    backend.gate = gate.promise;
    const inFlight = store.get(ref);
    backend.gate = undefined;
    // Meanwhile another path rotates it; then the slow load lands with the old value.
    await store.rotate(ref, rotated);
    backend.value = canary;
    gate.release();
    expect(await inFlight).toBe(canary);
    expect(await store.get(ref)).toBe(rotated);
    expect(heard).toEqual([rotated]);
  });

  it('never serves a value stale after its backend said it is gone', async () => {
    const { backend, time, store } = setup();
    await store.get(ref);
    time.now += 1_500;
    backend.failure = new AppError('NOT_FOUND', 'no such secret', { retryable: false });
    await expect(store.get(ref)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    backend.failure = unavailable();
    await expect(store.get(ref)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
