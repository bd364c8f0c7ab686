import { randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { AppError, isAppError, toError, type ErrorCode } from '@agentry/schema';
import type { SecretProvider, SecretValue } from './secret-provider';
import type { SecretRef } from './secret-ref';
import { replaceKey, selectKey } from './select-key';

/** Static AWS credentials or a provider of them (the SDK's `credentials` option). */
export type AwsCredentials = NonNullable<SecretsManagerClientConfig['credentials']>;

export interface AwsSecretsManagerProviderOptions {
  region: string;
  /** Endpoint override (a VPC endpoint, or the fake in tests). @default the regional endpoint */
  endpoint?: string;
  /** @default the SDK's default chain (env, shared files, SSO, web identity, ECS/IMDS) */
  credentials?: AwsCredentials;
  /**
   * Deadline of each AWS call, retries included (`AbortSignal.timeout`). Each attempt's HTTP
   * request times out after `timeoutMs / maxAttempts`, so a hung connection leaves room for a
   * retry.
   * @default 5_000
   */
  timeoutMs?: number;
  /**
   * Attempts per AWS call, first one included. The SDK's standard retry (jittered backoff, only
   * throttling, 5xx and connection faults) is the one retry layer for a call: the secret store and
   * its callers do not retry on top. @default 2
   */
  maxAttempts?: number;
  /** A ready client (its own timeouts and retries then apply; the deadline still does). */
  client?: SecretsManagerClient;
}

const credentialErrors = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
]);

/**
 * The workload's own credentials could not be had right now (IMDS or STS slow or down, a session
 * token that expired before the SDK refreshed it): retryable, so the stale window bridges it.
 */
const credentialOutages = new Set(['ExpiredTokenException', 'CredentialsProviderError']);

/**
 * The `aws://` provider over AWS Secrets Manager. `get` reads a version (AWSCURRENT unless the
 * reference names a stage or VersionId); `rotate` writes a new version staged AWSPENDING and then
 * promotes it to AWSCURRENT, which moves AWSPREVIOUS to the version it replaced (the old value
 * stays readable with `?stage=AWSPREVIOUS`). Rejections are `AppError`s naming the reference,
 * never a value; see {@link SecretProvider} for the codes.
 */
export function awsSecretsManagerProvider(
  options: AwsSecretsManagerProviderOptions,
): SecretProvider {
  const { timeoutMs = 5_000, maxAttempts = 2 } = options;
  if (!(timeoutMs > 0) || !Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new AppError(
      'VALIDATION',
      'aws provider: timeoutMs must be > 0, maxAttempts an integer ≥ 1',
    );
  }
  const ownsClient = options.client === undefined;
  const attemptMs = Math.max(1, Math.ceil(timeoutMs / maxAttempts));
  const client =
    options.client ??
    new SecretsManagerClient({
      region: options.region,
      maxAttempts,
      requestHandler: {
        connectionTimeout: attemptMs,
        requestTimeout: attemptMs,
        throwOnRequestTimeout: true,
      },
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
  let closed = false;

  /** One AWS call under the deadline; every failure becomes an AppError naming `ref`. */
  async function call<T>(
    ref: SecretRef,
    action: string,
    send: (abortSignal: AbortSignal) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const deadline = AbortSignal.timeout(timeoutMs);
    const abortSignal = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
    try {
      return await send(abortSignal);
    } catch (thrown) {
      throw awsError(thrown, ref, action, {
        cancelled: signal?.aborted === true,
        timedOut: deadline.aborted,
        timeoutMs,
      });
    }
  }

  async function readCurrent(ref: SecretRef, signal?: AbortSignal) {
    const out = await call(
      ref,
      'read',
      (abortSignal) =>
        client.send(new GetSecretValueCommand({ SecretId: ref.id, VersionStage: 'AWSCURRENT' }), {
          abortSignal,
        }),
      signal,
    );
    if (out.SecretString === undefined && out.SecretBinary !== undefined) {
      throw new AppError('VALIDATION', `${ref.raw}: binary secrets are not supported`);
    }
    return { text: out.SecretString, version: out.VersionId };
  }

  return {
    scheme: 'aws',

    async get(ref, signal) {
      checkScheme(ref);
      const out = await call(
        ref,
        'read',
        (abortSignal) =>
          client.send(
            new GetSecretValueCommand({
              SecretId: ref.id,
              VersionStage: ref.stage ?? (ref.version === undefined ? 'AWSCURRENT' : undefined),
              VersionId: ref.version,
            }),
            { abortSignal },
          ),
        signal,
      );
      if (out.SecretString === undefined) {
        const why =
          out.SecretBinary === undefined
            ? 'has no value'
            : 'is binary (binary secrets are not supported)';
        throw new AppError('VALIDATION', `${ref.raw}: the secret ${why}`, {
          details: { ref: ref.raw },
        });
      }
      const value = selectKey(ref, out.SecretString);
      return out.VersionId === undefined ? { value } : { value, version: out.VersionId };
    },

    async rotate(ref, newValue, signal): Promise<SecretValue> {
      checkScheme(ref);
      if ((ref.stage !== undefined && ref.stage !== 'AWSCURRENT') || ref.version !== undefined) {
        throw new AppError(
          'VALIDATION',
          `${ref.raw}: rotation writes AWSCURRENT; a reference pinned to a stage or version cannot be rotated`,
        );
      }
      const current = await readCurrent(ref, signal);
      const secretString = mergeKey(ref, current.text, newValue);
      const put = await call(
        ref,
        'write a new version of',
        (abortSignal) =>
          client.send(
            new PutSecretValueCommand({
              SecretId: ref.id,
              // Idempotent: the SDK's retry of this call cannot create a second version.
              ClientRequestToken: randomUUID(),
              SecretString: secretString,
              VersionStages: ['AWSPENDING'],
            }),
            { abortSignal },
          ),
        signal,
      );
      const version = put.VersionId;
      if (version === undefined) {
        throw new AppError(
          'UNAVAILABLE',
          `${ref.raw}: AWS answered PutSecretValue with no VersionId`,
        );
      }
      await promote(ref, version, current.version, signal);
      return { value: newValue, version };
    },

    async close() {
      if (closed) return;
      closed = true;
      if (ownsClient) client.destroy();
    },
  };

  /**
   * Move AWSCURRENT from `from` to `to`. When that fails, DescribeSecret decides: already on `to`
   * (a retried call whose first answer was lost) is success; elsewhere is a concurrent rotation.
   */
  async function promote(
    ref: SecretRef,
    to: string,
    from: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    try {
      await call(
        ref,
        'promote the new version of',
        (abortSignal) =>
          client.send(
            new UpdateSecretVersionStageCommand({
              SecretId: ref.id,
              VersionStage: 'AWSCURRENT',
              MoveToVersionId: to,
              RemoveFromVersionId: from,
            }),
            { abortSignal },
          ),
        signal,
      );
    } catch (error) {
      if (!isAppError(error) || error.code !== 'VALIDATION') throw error;
      const described = await call(
        ref,
        'describe',
        (abortSignal) =>
          client.send(new DescribeSecretCommand({ SecretId: ref.id }), { abortSignal }),
        signal,
      );
      if (described.VersionIdsToStages?.[to]?.includes('AWSCURRENT') === true) return;
      throw new AppError(
        'CONFLICT',
        `${ref.raw}: AWSCURRENT moved while rotating (a concurrent rotation?); the new version ${to} stays AWSPENDING`,
        { cause: error, details: { ref: ref.raw, version: to } },
      );
    }
  }
}

function checkScheme(ref: SecretRef): void {
  if (ref.scheme !== 'aws') {
    throw new AppError('VALIDATION', `${ref.raw}: not an aws:// reference`);
  }
}

/** `replaceKey`, without letting a JSON parse error (whose message quotes the text) escape. */
function mergeKey(ref: SecretRef, current: string | undefined, newValue: string): string {
  try {
    return replaceKey(ref, current, newValue);
  } catch (error) {
    if (isAppError(error)) throw error;
    throw new AppError(
      'VALIDATION',
      `${ref.raw}: the current secret is not JSON, so #${ref.key ?? ''} cannot be replaced`,
    );
  }
}

interface FailureContext {
  cancelled: boolean;
  timedOut: boolean;
  timeoutMs: number;
}

/**
 * Map an SDK failure to an AppError. The cause is a fresh Error carrying only the AWS error name,
 * code and message: SDK errors hold the raw HTTP response (`$response`), which for a response that
 * failed to parse is the secret itself.
 */
function awsError(
  thrown: unknown,
  ref: SecretRef,
  action: string,
  context: FailureContext,
): AppError {
  if (isAppError(thrown)) return thrown;
  const error = toError(thrown) as Error & {
    code?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: number; requestId?: string };
  };
  const status = error.$metadata?.httpStatusCode;
  const code = typeof error.code === 'string' ? error.code : undefined;
  const name = error.name;
  const isService = error.$fault === 'client' || error.$fault === 'server';
  const cause = new Error(
    isService || (name !== 'SyntaxError' && !name.includes('Deserializ'))
      ? `${name}${code === undefined ? '' : ` (${code})`}: ${error.message}`
      : name,
  );
  cause.name = name;
  const details: Record<string, unknown> = { ref: ref.raw, awsError: name };
  if (status !== undefined) details.httpStatus = status;
  if (error.$metadata?.requestId !== undefined) details.requestId = error.$metadata.requestId;
  const make = (appCode: ErrorCode, why: string, extra: { retryable?: boolean } = {}) =>
    new AppError(appCode, `${ref.raw}: could not ${action} the AWS secret: ${why}`, {
      cause,
      details,
      ...extra,
    });

  if (context.cancelled) return make('CANCELLED', 'cancelled by the caller');
  if (context.timedOut) return make('TIMEOUT', `no answer within ${context.timeoutMs} ms`);
  if (name === 'ResourceNotFoundException') {
    return make('NOT_FOUND', 'no such secret, version or stage', { retryable: false });
  }
  if (credentialErrors.has(name)) {
    // Not `credentialRejected`: that says the secret's value was refused by its user.
    return make('POLICY_DENIED', `AWS refused the workload's credentials (${name})`);
  }
  if (credentialOutages.has(name)) {
    return make('UNAVAILABLE', `the workload's AWS credentials are unavailable (${name})`);
  }
  if (name === 'DecryptionFailure') return make('POLICY_DENIED', 'KMS could not decrypt it');
  if (name === 'ThrottlingException' || name === 'TooManyRequestsException' || status === 429) {
    return make('RATE_LIMITED', 'throttled by AWS');
  }
  if (name === 'InvalidParameterException' || name === 'InvalidRequestException') {
    return make('VALIDATION', `AWS refused the request (${name})`);
  }
  if (code === 'ETIMEDOUT' || (name === 'TimeoutError' && code === undefined)) {
    return make('TIMEOUT', 'the request timed out');
  }
  if (error.$fault === 'server' || (status !== undefined && status >= 500)) {
    return make('UNAVAILABLE', `AWS failed (${name})`);
  }
  if (isService) return make('INTERNAL', `AWS refused the request (${name})`, { retryable: false });
  return make('UNAVAILABLE', `AWS could not be reached (${code ?? name})`);
}
