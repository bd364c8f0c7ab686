import { builtinTools } from './tools';

/**
 * Names of the tools every executor ships. The planner validates plans against them, so a plan
 * naming a tool no executor has is refused before anything runs.
 */
export const builtinToolNames: ReadonlySet<string> = new Set(
  builtinTools({ http: {} }).map((t) => t.name),
);
