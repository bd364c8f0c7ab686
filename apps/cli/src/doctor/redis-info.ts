import type { RedisClient } from './doctor-context';

/** One `field:value` line of an INFO reply. */
export function infoField(info: string, field: string): string | undefined {
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`${field}:`));
  return line?.slice(field.length + 1).trim();
}

/**
 * `CONFIG GET name`: the value, or `undefined` when CONFIG is refused (managed Redis often renames
 * or disables it) or fails. Callers fall back to INFO, whose failure they do report. Never throws.
 */
export async function configGet(client: RedisClient, name: string): Promise<string | undefined> {
  try {
    const reply = (await client.config('GET', name)) as unknown;
    return Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : undefined;
  } catch {
    return undefined;
  }
}

/** `version` (`7.2.4`) is at least `min` (`[6, 2]`). Unparseable versions are not. */
export function versionAtLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < min.length; i += 1) {
    const have = parts[i] ?? 0;
    const want = min[i] ?? 0;
    if (Number.isNaN(have)) return false;
    if (have !== want) return have > want;
  }
  return true;
}
