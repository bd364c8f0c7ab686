import { z } from 'zod';
import { postJsonAs, resolveApiKey } from './post-json';
import type { Completion, CompletionRequest, LlmProvider, ProviderOptions } from './provider';

/** Options of {@link openAiCompatibleProvider}. */
export interface OpenAiCompatibleProviderOptions extends ProviderOptions {
  /** Up to and including the version path: `https://api.openai.com/v1`, `http://localhost:11434/v1`, or an Azure deployment URL. */
  baseUrl: string;
  /** Azure OpenAI: send `api-key` instead of a bearer token and `?api-version=`. */
  azure?: { apiVersion: string };
  /** Ask for strict schema adherence (OpenAI's strict mode needs every property required). @default false */
  strictSchema?: boolean;
  maxTokens?: number;
}

const ChatCompletion = z.object({
  model: z.string().optional(),
  choices: z
    .array(z.object({ message: z.object({ content: z.string().nullable().optional() }) }))
    .min(1),
  usage: z
    .object({ prompt_tokens: z.number().optional(), completion_tokens: z.number().optional() })
    .optional(),
});

/**
 * A provider for the OpenAI chat-completions API and what speaks it (Azure OpenAI, vLLM,
 * Ollama, LiteLLM). Structured output is requested with `response_format: json_schema`.
 */
export function openAiCompatibleProvider(options: OpenAiCompatibleProviderOptions): LlmProvider {
  const {
    baseUrl,
    model,
    timeoutMs,
    azure,
    name = 'openai',
    strictSchema = false,
    now = Date.now,
    monotonic = () => performance.now(),
  } = options;
  const doFetch = options.fetch ?? globalThis.fetch;
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/chat/completions`);
  if (azure !== undefined) url.searchParams.set('api-version', azure.apiVersion);

  return {
    name,
    model,
    async complete(request: CompletionRequest, signal?: AbortSignal): Promise<Completion> {
      const key = await resolveApiKey(options.apiKey, name);
      const started = monotonic();
      const body: Record<string, unknown> = {
        model,
        messages: [{ role: 'system', content: request.system }, ...request.messages],
      };
      if (options.maxTokens !== undefined) body.max_tokens = options.maxTokens;
      if (request.jsonSchema !== undefined) {
        body.response_format = {
          type: 'json_schema',
          json_schema: {
            name: request.jsonSchema.name,
            schema: request.jsonSchema.schema,
            strict: strictSchema,
          },
        };
      }
      const {
        choices,
        usage,
        model: answered,
      } = await postJsonAs(
        {
          provider: name,
          url: url.toString(),
          // An empty key (`none`: a local model server) sends no credential at all.
          headers:
            key === ''
              ? {}
              : azure === undefined
                ? { authorization: `Bearer ${key}` }
                : { 'api-key': key },
          body,
          timeoutMs,
          signal,
          fetch: doFetch,
          now,
          secrets: [key],
        },
        ChatCompletion,
      );
      return {
        content: choices[0]?.message.content ?? '',
        usage: {
          inputTokens: usage?.prompt_tokens ?? 0,
          outputTokens: usage?.completion_tokens ?? 0,
        },
        model: answered ?? model,
        latencyMs: monotonic() - started,
      };
    },
  };
}
