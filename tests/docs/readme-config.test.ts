import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/fleet-process';

const configSources = [
  'packages/schema/src/config/common-config.ts',
  'packages/schema/src/config/approval-config.ts',
  'packages/llm/src/llm-config.ts',
  'apps/planner/src/config.ts',
  'apps/executor/src/config.ts',
  'apps/api/src/config.ts',
];

/** Every environment variable a process reads, from the keys of its zod env schema. */
async function configVariables(): Promise<string[]> {
  const names = new Set<string>();
  for (const file of configSources) {
    const source = await readFile(join(repoRoot, file), 'utf8');
    for (const m of source.matchAll(/^\s+([A-Z][A-Z0-9_]+): /gm)) names.add(m[1] as string);
  }
  return [...names].sort();
}

describe('README configuration table', () => {
  it('documents every variable the processes read, with a default and a meaning', async () => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const variables = await configVariables();
    expect(variables.length).toBeGreaterThan(20);
    for (const name of variables) {
      expect(readme, `${name} is missing from the README's configuration table`).toMatch(
        new RegExp(`^\\|\\s*\`${name}\`\\s*\\|[^|]+\\|[^|]{10,}\\|$`, 'm'),
      );
    }
  });
});
