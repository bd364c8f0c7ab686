import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { isAppError, type AppError } from '@agentry/schema';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { awsSecretsManagerProvider, type AwsSecretsManagerProviderOptions } from './aws-provider';
import type { SecretProvider } from './secret-provider';
import { parseSecretRef } from './secret-ref';
import {
  startFakeAwsSecretsManager,
  type FakeAwsSecretsManager,
} from './testing/fake-aws-secrets-manager';

// Obviously fake: the fake checks the SigV4 header's shape, never the signature.
const credentials = {
  accessKeyId: 'test-access-key-id',
  secretAccessKey: 'fake-secret-for-tests-only',
};
const password = 'pw-ORIGINAL-3c1f9e';
const dbSecret = JSON.stringify({ username: 'agentry', password });

let fake: FakeAwsSecretsManager;
const providers: SecretProvider[] = [];
const clients: SecretsManagerClient[] = [];

beforeEach(async () => {
  fake = await startFakeAwsSecretsManager({ accessKeyIds: [credentials.accessKeyId] });
  fake.seed('prod/agentry/db', dbSecret);
  fake.seed('prod/agentry/token', 'tok-PLAIN-9a8b7c');
});

afterEach(async () => {
  for (const provider of providers.splice(0)) await provider.close?.();
  for (const client of clients.splice(0)) client.destroy();
  await fake.close();
});

function provider(options: Partial<AwsSecretsManagerProviderOptions> = {}): SecretProvider {
  const created = awsSecretsManagerProvider({
    region: fake.region,
    endpoint: fake.url,
    credentials,
    ...options,
  });
  providers.push(created);
  return created;
}

function sdkClient(config: Partial<SecretsManagerClientConfig> = {}): SecretsManagerClient {
  const client = new SecretsManagerClient({
    region: fake.region,
    endpoint: fake.url,
    credentials,
    maxAttempts: 1,
    ...config,
  });
  clients.push(client);
  return client;
}

const get = (p: SecretProvider, raw: string, signal?: AbortSignal) =>
  p.get(parseSecretRef(raw), signal);

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!isAppError(error)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

/** Everything an error could leak through a logger: message, stack, details, the cause chain. */
function dump(error: unknown): string {
  const seen: unknown[] = [];
  let current: unknown = error;
  while (current instanceof Error && seen.length < 5) {
    const e = current as Error & Record<string, unknown>;
    seen.push({ ...e, name: e.name, message: e.message, stack: e.stack });
    current = e.cause;
  }
  return JSON.stringify(seen);
}

describe('awsSecretsManagerProvider: reads', () => {
  it('gets a plain secret with its VersionId', async () => {
    const seeded = fake.seed('prod/agentry/plain', 'plain-value-123456');
    const result = await get(provider(), 'aws://prod/agentry/plain');
    expect(result).toEqual({ value: 'plain-value-123456', version: seeded.versionId });
    expect(fake.requests.at(-1)).toMatchObject({
      operation: 'GetSecretValue',
      secretId: 'prod/agentry/plain',
      accessKeyId: credentials.accessKeyId,
      status: 200,
    });
  });

  it('selects a #key of a JSON secret, by name or by ARN', async () => {
    const p = provider();
    expect((await get(p, 'aws://prod/agentry/db#password')).value).toBe(password);
    const { arn } = fake.seed('prod/agentry/by-arn', JSON.stringify({ port: 5432 }));
    expect((await get(p, `aws://${arn}#port`)).value).toBe('5432');
  });

  it('answers NOT_FOUND, not retried, for a missing secret or key', async () => {
    const p = provider();
    const missing = await failure(get(p, 'aws://prod/agentry/nope'));
    expect(missing).toMatchObject({ code: 'NOT_FOUND', retryable: false });
    expect(missing.message).toContain('aws://prod/agentry/nope');
    expect(fake.requestCount('GetSecretValue')).toBe(1);
    expect(await failure(get(p, 'aws://prod/agentry/db#nokey'))).toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('awsSecretsManagerProvider: rotate', () => {
  it('writes a new version, staged then promoted; AWSPREVIOUS keeps the old value', async () => {
    const p = provider();
    const before = await get(p, 'aws://prod/agentry/token');
    const rotated = await p.rotate?.(parseSecretRef('aws://prod/agentry/token'), 'tok-NEW-1d2e3f');
    expect(rotated?.value).toBe('tok-NEW-1d2e3f');
    expect(rotated?.version).not.toBe(before.version);

    expect(await get(p, 'aws://prod/agentry/token')).toEqual(rotated);
    expect(await get(p, 'aws://prod/agentry/token?stage=AWSCURRENT')).toEqual(rotated);
    expect(await get(p, 'aws://prod/agentry/token?stage=AWSPREVIOUS')).toEqual(before);
    expect(await get(p, `aws://prod/agentry/token?version=${before.version}`)).toEqual(before);

    const described = await sdkClient().send(
      new DescribeSecretCommand({ SecretId: 'prod/agentry/token' }),
    );
    expect(described.VersionIdsToStages?.[rotated?.version ?? '']).toContain('AWSCURRENT');
    expect(described.VersionIdsToStages?.[before.version ?? '']).toEqual(['AWSPREVIOUS']);
    expect(fake.requestCount('PutSecretValue')).toBe(1);
    expect(fake.requestCount('UpdateSecretVersionStage')).toBe(1);
  });

  it('keeps the other keys of a JSON secret when rotating a #key', async () => {
    const p = provider();
    await p.rotate?.(parseSecretRef('aws://prod/agentry/db#password'), 'pw-ROTATED-77aa');
    expect((await get(p, 'aws://prod/agentry/db#password')).value).toBe('pw-ROTATED-77aa');
    expect((await get(p, 'aws://prod/agentry/db#username')).value).toBe('agentry');
    expect((await get(p, 'aws://prod/agentry/db#password?stage=AWSPREVIOUS')).value).toBe(password);
  });

  it('moves AWSPREVIOUS along on a second rotation', async () => {
    const p = provider();
    const ref = parseSecretRef('aws://prod/agentry/token');
    await p.rotate?.(ref, 'tok-SECOND-aaaa');
    await p.rotate?.(ref, 'tok-THIRD-bbbb');
    expect((await get(p, 'aws://prod/agentry/token')).value).toBe('tok-THIRD-bbbb');
    expect((await get(p, 'aws://prod/agentry/token?stage=AWSPREVIOUS')).value).toBe(
      'tok-SECOND-aaaa',
    );
  });

  it('refuses a pinned reference, and a #key of a non-JSON secret', async () => {
    const p = provider();
    const pinned = await failure(
      p.rotate?.(parseSecretRef('aws://prod/agentry/token?stage=AWSPREVIOUS'), 'x') ??
        Promise.resolve(),
    );
    expect(pinned.code).toBe('VALIDATION');
    const notJson = await failure(
      p.rotate?.(parseSecretRef('aws://prod/agentry/token#k'), 'new-value-0000') ??
        Promise.resolve(),
    );
    expect(notJson.code).toBe('VALIDATION');
    expect(dump(notJson)).not.toContain('tok-PLAIN-9a8b7c');
    expect(fake.requestCount('PutSecretValue')).toBe(0);
  });
});

describe('awsSecretsManagerProvider: faults', () => {
  it('maps throttling to RATE_LIMITED after the SDK retry', async () => {
    fake.fail('throttle');
    const error = await failure(get(provider(), 'aws://prod/agentry/db'));
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    expect(fake.requestCount('GetSecretValue')).toBe(2);
  });

  it('maps a 500 to UNAVAILABLE after at most maxAttempts requests', async () => {
    fake.fail('500');
    const error = await failure(get(provider(), 'aws://prod/agentry/db'));
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(error.details).toMatchObject({ awsError: 'InternalServiceError', httpStatus: 500 });
    expect(fake.requestCount('GetSecretValue')).toBe(2);

    fake.fail('500');
    await failure(get(provider({ maxAttempts: 1 }), 'aws://prod/agentry/db'));
    expect(fake.requestCount('GetSecretValue')).toBe(3);
  });

  it('recovers when the outage lasts one attempt', async () => {
    fake.fail('500', { times: 1 });
    expect((await get(provider(), 'aws://prod/agentry/db#username')).value).toBe('agentry');
    expect(fake.requestCount('GetSecretValue')).toBe(2);
  });

  it('maps a cut connection to UNAVAILABLE', async () => {
    fake.fail('reset');
    const error = await failure(get(provider(), 'aws://prod/agentry/db'));
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(fake.requestCount()).toBe(2);
  });

  it('times out a hung call within the deadline and closes the socket', async () => {
    fake.fail('hang');
    const started = Date.now();
    const error = await failure(get(provider({ timeoutMs: 400 }), 'aws://prod/agentry/db'));
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(elapsed).toBeLessThan(400 + 300);
    expect(fake.requestCount()).toBeGreaterThanOrEqual(1);
    expect(fake.requestCount()).toBeLessThanOrEqual(2);
    await vi.waitFor(() => expect(fake.openHungRequests()).toBe(0), { timeout: 1_000 });
  });

  it("answers CANCELLED when the caller's signal aborts", async () => {
    fake.fail('hang');
    const controller = new AbortController();
    const pending = get(provider(), 'aws://prod/agentry/db', controller.signal);
    setTimeout(() => controller.abort(), 50);
    expect(await failure(pending)).toMatchObject({ code: 'CANCELLED', retryable: false });
    await vi.waitFor(() => expect(fake.openHungRequests()).toBe(0), { timeout: 1_000 });
  });

  it('maps AccessDenied and an unknown key to POLICY_DENIED (not a rejected secret value)', async () => {
    fake.fail('denied');
    const denied = await failure(get(provider(), 'aws://prod/agentry/db'));
    expect(denied).toMatchObject({ code: 'POLICY_DENIED', retryable: false });
    expect(denied.details?.credentialRejected).toBeUndefined();
    fake.fail(undefined);

    const unknown = await failure(
      get(
        provider({ credentials: { ...credentials, accessKeyId: 'test-unknown-key-id' } }),
        'aws://prod/agentry/db',
      ),
    );
    expect(unknown).toMatchObject({ code: 'POLICY_DENIED', retryable: false });
    expect(unknown.details).toMatchObject({ awsError: 'UnrecognizedClientException' });
  });

  it('maps a request without a signature to POLICY_DENIED', async () => {
    const client = sdkClient({ maxAttempts: 2 });
    // After signing, before sending: the fake must see an unsigned request.
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers: Record<string, string> };
        delete request.headers.authorization;
        return next(args);
      },
      { step: 'deserialize', name: 'dropAuthorization' },
    );
    const error = await failure(get(provider({ client }), 'aws://prod/agentry/db'));
    expect(error).toMatchObject({ code: 'POLICY_DENIED', retryable: false });
    expect(error.details).toMatchObject({ awsError: 'IncompleteSignatureException' });
    expect(fake.requestCount()).toBe(1);
  });

  it('maps missing workload credentials to a retryable UNAVAILABLE, sending nothing', async () => {
    const noCredentials = async () => {
      throw Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      });
    };
    const error = await failure(
      get(provider({ credentials: noCredentials }), 'aws://prod/agentry/db'),
    );
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(fake.requestCount()).toBe(0);
  });

  it('never puts a secret value in an error, its cause or the request log', async () => {
    const p = provider();
    const errors: unknown[] = [];
    for (const mode of ['500', 'throttle', 'denied', 'reset'] as const) {
      fake.fail(mode);
      errors.push(await failure(get(p, 'aws://prod/agentry/db#password')));
      errors.push(
        await failure(
          p.rotate?.(parseSecretRef('aws://prod/agentry/db#password'), 'pw-NEVER-SHOWN') ??
            Promise.resolve(),
        ),
      );
    }
    fake.fail('500', { operation: 'UpdateSecretVersionStage' });
    errors.push(
      await failure(
        p.rotate?.(parseSecretRef('aws://prod/agentry/db#password'), 'pw-NEVER-SHOWN') ??
          Promise.resolve(),
      ),
    );
    fake.fail(undefined);
    errors.push(await failure(get(p, 'aws://prod/agentry/token#key')));
    for (const error of errors) {
      const text = dump(error);
      expect(text).toContain('aws://prod/agentry/');
      for (const value of [password, 'pw-NEVER-SHOWN', 'tok-PLAIN-9a8b7c']) {
        expect(text).not.toContain(value);
      }
    }
    expect(JSON.stringify(fake.requests)).not.toContain(password);
    expect(JSON.stringify(fake.requests)).not.toContain('pw-NEVER-SHOWN');
  });
});

describe('fakeAwsSecretsManager wire format', () => {
  it('rejects an unsigned request as AWS does: HTTP 400 with __type', async () => {
    const response = await fetch(fake.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
      },
      body: JSON.stringify({ SecretId: 'prod/agentry/db' }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('IncompleteSignatureException');
    expect(await response.json()).toMatchObject({ __type: 'IncompleteSignatureException' });
  });

  it('answers CreatedDate in epoch seconds and refuses a stale RemoveFromVersionId', async () => {
    const client = sdkClient();
    const p = provider({ client });
    const before = await get(p, 'aws://prod/agentry/token');
    const out = await client.send(new GetSecretValueCommand({ SecretId: 'prod/agentry/token' }));
    expect(out.CreatedDate).toBeInstanceOf(Date);
    expect(Math.abs((out.CreatedDate?.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
    const wrong = client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'prod/agentry/token',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: before.version,
        RemoveFromVersionId: 'not-the-current-version',
      }),
    );
    await expect(wrong).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });
});
