import { z } from 'zod';
import { postJsonAs, resolveApiKey } from './post-json';
import type { Completion, CompletionRequest, LlmProvider, ProviderOptions } from './provider';

/** Options of {@link anthropicProvider}. */
export interface AnthropicProviderOptions extends ProviderOptions {
  /** @default 'https://api.anthropic.com' */
  baseUrl?: string;
  maxTokens: number;
  /** @default '2023-06-01' */
  anthropicVersion?: string;
}

const Message = z.object({
  model: z.string().optional(),
  content: z.array(
    z.union([
      z.object({ type: z.literal('text'), text: z.string() }),
      z.object({ type: z.literal('tool_use'), name: z.string(), input: z.unknown() }),
      z.looseObject({ type: z.string() }),
    ]),
  ),
  usage: z
    .object({ input_tokens: z.number().optional(), output_tokens: z.number().optional() })
    .optional(),
});

/**
 * A provider for the Anthropic Messages API. Structured output is requested tool-use style: one
 * tool whose `input_schema` is the wanted schema, forced with `tool_choice`; its `input` is the
 * answer. A text answer (a model that ignored the tool) is passed on as text, for validation.
 */
export function anthropicProvider(options: AnthropicProviderOptions): LlmProvider {
  const {
    baseUrl = 'https://api.anthropic.com',
    model,
    maxTokens,
    timeoutMs,
    anthropicVersion = '2023-06-01',
    name = 'anthropic',
    now = Date.now,
    monotonic = () => performance.now(),
  } = options;
  const doFetch = options.fetch ?? globalThis.fetch;
  const url = `${baseUrl.replace(/\/+$/, '')}/v1/messages`;

  return {
    name,
    model,
    async complete(request: CompletionRequest, signal?: AbortSignal): Promise<Completion> {
      const key = await resolveApiKey(options.apiKey, name);
      const started = monotonic();
      const body: Record<string, unknown> = {
        model,
        max_tokens: maxTokens,
        system: request.system,
        messages: request.messages,
      };
      if (request.jsonSchema !== undefined) {
        // `$schema` is not part of a tool's input schema.
        const { $schema: _ignored, ...inputSchema } = request.jsonSchema.schema;
        body.tools = [
          {
            name: request.jsonSchema.name,
            description: 'Return the answer as this tool input.',
            input_schema: inputSchema,
          },
        ];
        body.tool_choice = { type: 'tool', name: request.jsonSchema.name };
      }
      const {
        content,
        usage,
        model: answered,
      } = await postJsonAs(
        {
          provider: name,
          url,
          headers: { 'x-api-key': key, 'anthropic-version': anthropicVersion },
          body,
          timeoutMs,
          signal,
          fetch: doFetch,
          now,
          secrets: [key],
        },
        Message,
      );
      const toolUse = content.find((block) => block.type === 'tool_use');
      const text =
        toolUse !== undefined && 'input' in toolUse
          ? JSON.stringify(toolUse.input)
          : content
              .map((block) => ('text' in block && typeof block.text === 'string' ? block.text : ''))
              .join('');
      return {
        content: text,
        usage: { inputTokens: usage?.input_tokens ?? 0, outputTokens: usage?.output_tokens ?? 0 },
        model: answered ?? model,
        latencyMs: monotonic() - started,
      };
    },
  };
}
