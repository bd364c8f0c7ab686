import type { ToolDescription } from '@agentry/llm';
import { z } from 'zod';
import { builtinTools } from './tools';

const tools = builtinTools({ http: {} });

/**
 * Names of the tools every executor ships. The planner validates plans against them, so a plan
 * naming a tool no executor has is refused before anything runs.
 */
export const builtinToolNames: ReadonlySet<string> = new Set(tools.map((t) => t.name));

/** The same tools as a model sees them: name, description and the JSON Schema of the input. */
export const builtinToolCatalog: readonly ToolDescription[] = tools.map((tool) => ({
  name: tool.name,
  description: tool.description,
  inputSchema: inputSchemaOf(tool.input),
}));

function inputSchemaOf(schema: z.ZodType): unknown {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  } catch {
    // A schema JSON Schema cannot express: the description has to do.
    return undefined;
  }
}
