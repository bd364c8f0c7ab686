import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  builtinPlanningTools,
  builtinToolNames,
  planningToolsOf,
  type PlanningTools,
} from './builtin-tool-names';
import { builtinTools, createToolRegistry, type ToolDefinition } from './tools';

const risks = new Set(['low', 'medium', 'high', 'critical']);

/**
 * The tools of `AGENTRY_TOOLS_MODULE`: an ES module (a path, absolute or from the working
 * directory) whose `tools` export — or default export — is an array of tool definitions
 * (`defineTool` from `@agentry/executor`). They are added to the built-ins by the executor, the
 * planner and the API alike, so one module deployed with all three is how an application brings
 * its own tools to the stock processes. A module that cannot be loaded, or a tool that is not a
 * tool, stops the process at start with a message naming the module and the problem.
 */
export async function loadToolsModule(path: string): Promise<ToolDefinition[]> {
  const where = `AGENTRY_TOOLS_MODULE ${path}`;
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${where}: cannot be loaded: ${(e as Error).message}`, { cause: e });
  }
  const tools = loaded.tools ?? loaded.default;
  if (!Array.isArray(tools)) {
    throw new Error(`${where}: export \`tools\` (or a default export) as an array of tools`);
  }
  const problems = tools.flatMap((tool: unknown, i) =>
    problemsOf(tool).map((p) => `tools[${i}]${nameOf(tool)}: ${p}`),
  );
  if (problems.length > 0) throw new Error(`${where}: ${problems.join('; ')}`);
  const checked = tools as ToolDefinition[];
  const builtin = checked.find((t) => builtinToolNames.has(t.name));
  if (builtin) throw new Error(`${where}: duplicate tool name "${builtin.name}" (a built-in tool)`);
  try {
    createToolRegistry(checked); // names well-formed, none taken twice
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`, { cause: e });
  }
  return checked;
}

/** The planning view of the built-ins plus the tools of `toolsModule`, when one is set. */
export async function planningToolsFor(toolsModule: string | undefined): Promise<PlanningTools> {
  if (toolsModule === undefined) return builtinPlanningTools;
  return planningToolsOf([...builtinTools({ http: {} }), ...(await loadToolsModule(toolsModule))]);
}

const nameOf = (tool: unknown): string => {
  const name = (tool as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? ` (${name})` : '';
};

function problemsOf(tool: unknown): string[] {
  if (typeof tool !== 'object' || tool === null) return ['not an object'];
  const t = tool as Record<string, unknown>;
  const isSchema = (s: unknown) =>
    typeof (s as { safeParse?: unknown } | null)?.safeParse === 'function';
  return [
    typeof t.name !== 'string' && '`name` is not a string',
    (typeof t.description !== 'string' || t.description.trim() === '') &&
      '`description` is missing',
    !isSchema(t.input) && '`input` is not a zod schema',
    !isSchema(t.output) && '`output` is not a zod schema',
    !risks.has(t.risk as string) && '`risk` is not low, medium, high or critical',
    typeof t.run !== 'function' && '`run` is not a function',
    t.compensate !== undefined &&
      typeof t.compensate !== 'function' &&
      '`compensate` is not a function',
  ].filter((p): p is string => typeof p === 'string');
}
