/** Which API a request spoke. */
export type FakeApi = 'openai' | 'anthropic';

/** What the fake needs to know of a chat request to answer it like a model. */
export interface FakeRequestView {
  /** Name of the structured output asked for (`response_format` or the forced tool), if any. */
  schemaName: string | undefined;
  /** Text of the last user message: the intent, in a planning request (a repair round: the problems). */
  lastUserText: string;
  /** Text of every user message, in order (earlier turns, the intent, repair prompts). */
  userTexts: string[];
  /** Tool names the system prompt lists as `- <name>: …` lines, in order. */
  tools: string[];
}

const toolLine = /^- ([a-z][a-z0-9_-]*(?:\.[a-z][a-z0-9_-]*)*):/gm;

/** Read a request body of either API loosely. Never throws: a body it cannot read is empty. */
export function readFakeRequest(api: FakeApi, body: unknown): FakeRequestView {
  const request = isRecord(body) ? body : {};
  const messages = Array.isArray(request.messages) ? request.messages.filter(isRecord) : [];
  const system =
    api === 'anthropic'
      ? textOf(request.system)
      : messages
          .filter((m) => m.role === 'system' || m.role === 'developer')
          .map((m) => textOf(m.content))
          .join('\n');
  const userTexts = messages.filter((m) => m.role === 'user').map((m) => textOf(m.content));
  return {
    schemaName: api === 'anthropic' ? forcedToolOf(request) : responseFormatOf(request),
    lastUserText: userTexts.at(-1) ?? '',
    userTexts,
    tools: [...system.matchAll(toolLine)].map((match) => match[1] ?? ''),
  };
}

function responseFormatOf(request: Record<string, unknown>): string | undefined {
  const format = request.response_format;
  if (!isRecord(format) || format.type !== 'json_schema' || !isRecord(format.json_schema)) {
    return undefined;
  }
  return typeof format.json_schema.name === 'string' ? format.json_schema.name : undefined;
}

/** The tool named by `tool_choice: { type: 'tool', name }`, the Anthropic structured-output idiom. */
export function forcedToolOf(request: unknown): string | undefined {
  const choice = isRecord(request) ? request.tool_choice : undefined;
  return isRecord(choice) && choice.type === 'tool' && typeof choice.name === 'string'
    ? choice.name
    : undefined;
}

/** A message content: a string, or an array of `{ type: 'text', text }` parts. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : ''))
    .join('');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
