import { AppError, toAppError } from '@agentry/schema';
import type { SecretStore } from '@agentry/secrets';

/**
 * Resolve every reference a process is configured with before it takes work, so a broken one
 * stops the start (naming the variable and the reason, never a value) instead of failing every
 * job later. `refs` maps a variable name to its reference; `undefined` entries are skipped.
 */
export async function requireSecrets(
  secrets: Pick<SecretStore, 'get'>,
  refs: Record<string, string | undefined>,
): Promise<void> {
  const checks = Object.entries(refs).flatMap(([variable, ref]) =>
    ref === undefined
      ? []
      : [
          secrets.get(ref).then(
            () => undefined,
            (e: unknown) => `${variable}=${ref}: [${toAppError(e).code}] ${toAppError(e).message}`,
          ),
        ],
  );
  const problems = (await Promise.all(checks)).filter((p): p is string => p !== undefined);
  if (problems.length > 0) {
    throw new AppError('VALIDATION', `secret references do not resolve:\n${problems.join('\n')}`, {
      details: { problems },
    });
  }
}
