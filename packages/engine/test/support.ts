import { openTestFleet, type TestFleet } from '../src/testing';
import type { EngineDeps } from '../src';

export { seedPlannedRun, waitFor } from '../src/testing';
export { queueNames } from '@agentry/schema';

export interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

/** An engine logger that keeps its lines for assertions. */
export function memoryLog(): EngineDeps['log'] & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg: string) =>
    void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, info: at('info'), warn: at('warn') };
}

/** A test fleet whose engine deps log into memory. */
export interface EngineHarness extends TestFleet {
  prefix: string;
  deps: EngineDeps & { log: ReturnType<typeof memoryLog> };
}

export async function openEngineHarness(): Promise<EngineHarness> {
  const fleet = await openTestFleet('eng');
  return Object.assign(fleet, {
    prefix: fleet.services.prefix,
    deps: { ...fleet.services.engine, log: memoryLog() },
  });
}
