import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { describeMachineLine, type Machine } from './machine';
import { markdownTable, type Figure } from './stats';

export const docPath = join(import.meta.dirname, '..', '..', 'docs', 'benchmarks.md');
const start = '<!-- bench:results:start -->';
const end = '<!-- bench:results:end -->';

/** The generated block: run date, machine, load average per section, figure table. */
export function resultsBlock(
  figures: readonly Figure[],
  machine: Machine,
  date: Date,
  loads: ReadonlyArray<[section: string, load: number]> = [],
): string {
  const perSection = loads.map(([s, l]) => `${s}: ${l.toFixed(1)}`).join(', ');
  return [
    `Run of ${date.toISOString().slice(0, 10)}, \`pnpm bench --write-doc\`, on ${describeMachineLine(machine)}.${perSection ? ` 1-min load average at the start of each section: ${perSection}.` : ''}`,
    '',
    markdownTable(figures),
  ].join('\n');
}

/**
 * Replace the text between the results markers of docs/benchmarks.md (the prose around them is
 * written by hand and left alone), formatted with the repository's prettier settings so that
 * `prettier --check` stays green. Throws when the markers are missing.
 */
export async function writeResults(block: string): Promise<void> {
  const doc = await readFile(docPath, 'utf8');
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${docPath}: missing ${start} … ${end}`);
  const updated = `${doc.slice(0, from + start.length)}\n\n${block}\n\n${doc.slice(to)}`;
  const options = (await resolveConfig(docPath)) ?? {};
  await writeFile(docPath, await format(updated, { ...options, filepath: docPath }));
}
