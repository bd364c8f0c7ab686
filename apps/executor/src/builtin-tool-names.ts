import type { ToolProfile } from '@agentry/engine';
import type { ToolDescription } from '@agentry/llm';
import { builtinTools, createToolRegistry, type ToolDefinition } from './tools';

/** What planning needs to know of the tools the executors offer. */
export interface PlanningTools {
  /** Their names: a plan naming another tool is refused (`UNKNOWN_TOOL`) before anything runs. */
  names: ReadonlySet<string>;
  /** The tools as a model sees them: name, description and the JSON Schema of the input. */
  catalog: readonly ToolDescription[];
  /** Risk and estimates of a tool, for plan reviews. */
  profile: (name: string) => ToolProfile | undefined;
}

/**
 * The planning view of `tools` — pass the planner and the API the same list as the executors
 * (`createExecutor({ tools })`), so plans naming an application's own tools are accepted, shown
 * to the model and reviewed by their risk.
 */
export function planningToolsOf(tools: readonly ToolDefinition[]): PlanningTools {
  const registry = createToolRegistry(tools);
  return {
    names: registry.names(),
    catalog: registry.list().map(({ name, description, inputJsonSchema }) => ({
      name,
      description,
      inputSchema: inputJsonSchema,
    })),
    profile: (name) => registry.profile(name),
  };
}

/** The tools every executor ships, as planning sees them. */
export const builtinPlanningTools: PlanningTools = planningToolsOf(builtinTools({ http: {} }));

/** Names of the built-in tools. */
export const builtinToolNames: ReadonlySet<string> = builtinPlanningTools.names;

/** The built-in tools as a model sees them. */
export const builtinToolCatalog: readonly ToolDescription[] = builtinPlanningTools.catalog;

/** Risk and estimates of the built-in tools, for plan reviews. */
export const builtinToolProfile = builtinPlanningTools.profile;
