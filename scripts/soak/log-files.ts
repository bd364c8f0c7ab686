import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { FleetProcess } from '../../tests/support/fleet-process';

/** Lines each process wrote, by level, and secret values found in them. */
export interface LogTally {
  lines: number;
  byLevel: Record<string, number>;
  /** `<secret> in <file>`, once per pair. */
  leaks: string[];
}

/**
 * Move each process's captured output to files in `dir` (`<label>.log`, JSON lines, and
 * `<label>.stderr`) every second, so a long run does not keep every line in memory. Every line
 * is searched for the `secrets` values on its way: the chaos secret scan only sees the lines
 * still held by a process, so this takes over that part of invariant 4.
 */
export function drainLogsToFiles(
  dir: string,
  processes: ReadonlyArray<{ label: string; process: FleetProcess }>,
  secrets: Readonly<Record<string, string>>,
): { tally: LogTally; stop(): void } {
  const tally: LogTally = { lines: 0, byLevel: {}, leaks: [] };
  const files = processes.map(({ label, process }) => ({
    label,
    process,
    log: openSync(join(dir, `${label}.log`), 'a'),
    stderr: openSync(join(dir, `${label}.stderr`), 'a'),
  }));
  const scan = (where: string, text: string): void => {
    for (const [name, value] of Object.entries(secrets))
      if (text.includes(value) && !tally.leaks.includes(`${name} in ${where}`))
        tally.leaks.push(`${name} in ${where}`);
  };
  const drain = (): void => {
    for (const f of files) {
      const lines = f.process.lines.splice(0);
      if (lines.length > 0) {
        const text = lines.map((l) => `${JSON.stringify(l)}\n`).join('');
        scan(`${f.label}.log`, text);
        writeSync(f.log, text);
        tally.lines += lines.length;
        for (const l of lines) {
          const level = String(l.level ?? '?');
          tally.byLevel[level] = (tally.byLevel[level] ?? 0) + 1;
        }
      }
      const stderr = f.process.stderr.splice(0).join('');
      if (stderr !== '') {
        scan(`${f.label}.stderr`, stderr);
        writeSync(f.stderr, stderr);
      }
    }
  };
  const timer = setInterval(drain, 1_000);
  let stopped = false;
  return {
    tally,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      drain();
      for (const f of files) {
        closeSync(f.log);
        closeSync(f.stderr);
      }
    },
  };
}
