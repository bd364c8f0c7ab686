import { randomUUID } from 'node:crypto';

/** An AWS error as the JSON 1.1 protocol reports it: HTTP status, `__type` and `message`. */
export class FakeAwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'FakeAwsError';
  }
}

interface Version {
  id: string;
  secretString: string;
  stages: Set<string>;
  created: Date;
}

interface Secret {
  name: string;
  arn: string;
  created: Date;
  changed: Date;
  /** In creation order. */
  versions: Map<string, Version>;
}

export interface FakeSecretsStateOptions {
  region: string;
  accountId: string;
  now: () => Date;
}

/** The operations the fake serves: the AWS name, its JSON input, its JSON output. */
export type FakeSecretsOperation = (input: Record<string, unknown>) => Record<string, unknown>;

/**
 * Secrets Manager's versions and staging labels in memory, with AWS's rules: the first version
 * gets AWSCURRENT, moving AWSCURRENT moves AWSPREVIOUS to the version it left, a label attached
 * elsewhere must be named in `RemoveFromVersionId`, `ClientRequestToken` is idempotent.
 */
export function createFakeSecretsState(options: FakeSecretsStateOptions) {
  const { region, accountId, now } = options;
  const secrets = new Map<string, Secret>();

  function find(secretId: unknown): Secret {
    const id = requireString(secretId, 'SecretId');
    const secret = secrets.get(id) ?? [...secrets.values()].find((s) => s.arn === id);
    if (secret === undefined) {
      throw new FakeAwsError(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    }
    return secret;
  }

  function holderOf(secret: Secret, stage: string): Version | undefined {
    return [...secret.versions.values()].find((v) => v.stages.has(stage));
  }

  /** Attach `stage` to `target`, taking it off its holder; AWSCURRENT leaves AWSPREVIOUS behind. */
  function attach(secret: Secret, stage: string, target: Version): void {
    const holder = holderOf(secret, stage);
    if (holder === target) return;
    holder?.stages.delete(stage);
    target.stages.add(stage);
    if (stage === 'AWSCURRENT' && holder !== undefined) {
      holderOf(secret, 'AWSPREVIOUS')?.stages.delete('AWSPREVIOUS');
      holder.stages.add('AWSPREVIOUS');
    }
    secret.changed = now();
  }

  function addVersion(
    secret: Secret,
    token: unknown,
    secretString: unknown,
    stages: unknown,
  ): Version {
    const id = token === undefined ? randomUUID() : requireString(token, 'ClientRequestToken');
    const text = requireString(secretString, 'SecretString');
    const existing = secret.versions.get(id);
    if (existing !== undefined) {
      if (existing.secretString === text) return existing; // an idempotent retry
      throw new FakeAwsError(
        'ResourceExistsException',
        'A resource with the ID you requested already exists.',
      );
    }
    const version: Version = { id, secretString: text, stages: new Set(), created: now() };
    const wanted = stages === undefined ? ['AWSCURRENT'] : requireStrings(stages, 'VersionStages');
    const first = holderOf(secret, 'AWSCURRENT') === undefined;
    secret.versions.set(id, version);
    for (const stage of first ? [...new Set(['AWSCURRENT', ...wanted])] : wanted) {
      attach(secret, stage, version);
    }
    return version;
  }

  function create(name: string, secretString: unknown, token: unknown) {
    if (secrets.has(name)) {
      throw new FakeAwsError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    const suffix = randomUUID().replace(/-/g, '').slice(0, 6);
    const at = now();
    const secret: Secret = {
      name,
      arn: `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${suffix}`,
      created: at,
      changed: at,
      versions: new Map(),
    };
    secrets.set(name, secret);
    const version =
      secretString === undefined ? undefined : addVersion(secret, token, secretString, undefined);
    return { ARN: secret.arn, Name: name, VersionId: version?.id };
  }

  const operations: Record<string, FakeSecretsOperation> = {
    CreateSecret: (input) =>
      create(requireString(input.Name, 'Name'), input.SecretString, input.ClientRequestToken),

    GetSecretValue: (input) => {
      const secret = find(input.SecretId);
      const versionId = optionalString(input.VersionId, 'VersionId');
      const stage = optionalString(input.VersionStage, 'VersionStage');
      const version =
        versionId !== undefined
          ? secret.versions.get(versionId)
          : holderOf(secret, stage ?? 'AWSCURRENT');
      if (version === undefined || (stage !== undefined && !version.stages.has(stage))) {
        throw new FakeAwsError(
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret value for the version or staging label.",
        );
      }
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.id,
        SecretString: version.secretString,
        VersionStages: [...version.stages],
        CreatedDate: epochSeconds(version.created),
      };
    },

    PutSecretValue: (input) => {
      const secret = find(input.SecretId);
      const version = addVersion(
        secret,
        input.ClientRequestToken,
        input.SecretString,
        input.VersionStages,
      );
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.id,
        VersionStages: [...version.stages],
      };
    },

    UpdateSecretVersionStage: (input) => {
      const secret = find(input.SecretId);
      const stage = requireString(input.VersionStage, 'VersionStage');
      const moveTo = optionalString(input.MoveToVersionId, 'MoveToVersionId');
      const removeFrom = optionalString(input.RemoveFromVersionId, 'RemoveFromVersionId');
      const holder = holderOf(secret, stage);
      if (removeFrom !== undefined && holder?.id !== removeFrom) {
        throw new FakeAwsError(
          'InvalidParameterException',
          `The staging label ${stage} is not attached to version ${removeFrom}.`,
        );
      }
      if (moveTo === undefined) {
        if (stage === 'AWSCURRENT') {
          throw new FakeAwsError(
            'InvalidParameterException',
            'You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.',
          );
        }
        holder?.stages.delete(stage);
        return { ARN: secret.arn, Name: secret.name };
      }
      const target = secret.versions.get(moveTo);
      if (target === undefined) {
        throw new FakeAwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret version ${moveTo}.`,
        );
      }
      if (holder !== undefined && holder !== target && removeFrom === undefined) {
        throw new FakeAwsError(
          'InvalidParameterException',
          `The staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
      attach(secret, stage, target);
      return { ARN: secret.arn, Name: secret.name };
    },

    DescribeSecret: (input) => {
      const secret = find(input.SecretId);
      const labelled = [...secret.versions.values()].filter((v) => v.stages.size > 0);
      return {
        ARN: secret.arn,
        Name: secret.name,
        CreatedDate: epochSeconds(secret.created),
        LastChangedDate: epochSeconds(secret.changed),
        VersionIdsToStages: Object.fromEntries(labelled.map((v) => [v.id, [...v.stages]])),
      };
    },
  };

  return {
    operations,
    /** Create `name` with one AWSCURRENT version holding `secretString`. */
    seed(name: string, secretString: string): { arn: string; versionId: string } {
      const created = create(name, secretString, undefined);
      return { arn: created.ARN, versionId: created.VersionId ?? '' };
    },
  };
}

function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function requireString(value: unknown, field: string): string {
  if (typeof value === 'string' && value !== '') return value;
  throw new FakeAwsError('InvalidParameterException', `${field} must be a non-empty string.`);
}

function optionalString(value: unknown, field: string): string | undefined {
  return value === undefined || value === null ? undefined : requireString(value, field);
}

function requireStrings(value: unknown, field: string): string[] {
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) {
    return value as string[];
  }
  throw new FakeAwsError('InvalidParameterException', `${field} must be a list of strings.`);
}
