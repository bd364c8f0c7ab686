import type { ToolProfile } from '@agentry/engine';
import type { ToolDescription } from '@agentry/llm';
import { builtinTools, createToolRegistry } from './tools';

const registry = createToolRegistry(builtinTools({ http: {} }));

/**
 * Names of the tools every executor ships. The planner validates plans against them, so a plan
 * naming a tool no executor has is refused before anything runs.
 */
export const builtinToolNames: ReadonlySet<string> = registry.names();

/** The same tools as a model sees them: name, description and the JSON Schema of the input. */
export const builtinToolCatalog: readonly ToolDescription[] = registry
  .list()
  .map(({ name, description, inputJsonSchema }) => ({
    name,
    description,
    inputSchema: inputJsonSchema,
  }));

/** Risk and estimates of the built-in tools, for plan reviews. */
export const builtinToolProfile = (name: string): ToolProfile | undefined => registry.profile(name);
