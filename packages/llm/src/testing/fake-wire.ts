import type { FakeUsage } from './fake-answer';
import type { FakeText } from './fake-plan';

/** A 200 body of the OpenAI chat-completions API. */
export function openAiAnswer(seq: number, model: string, text: FakeText, usage: FakeUsage) {
  return {
    id: `chatcmpl-fake-${seq}`,
    object: 'chat.completion',
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text.content },
        finish_reason: text.finish,
      },
    ],
    usage: {
      prompt_tokens: usage.input,
      completion_tokens: usage.output,
      total_tokens: usage.input + usage.output,
    },
  };
}

/**
 * A 200 body of the Anthropic Messages API. With a forced tool, a JSON object answer comes back
 * as that tool's `input` (tool-use style); anything else, a cut-off answer too, as text.
 */
export function anthropicAnswer(
  seq: number,
  model: string,
  text: FakeText,
  usage: FakeUsage,
  toolName: string | undefined,
) {
  let block: object = { type: 'text', text: text.content };
  if (toolName !== undefined && text.finish === 'stop') {
    try {
      const input: unknown = JSON.parse(text.content);
      if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
        block = { type: 'tool_use', id: `toolu_fake_${seq}`, name: toolName, input };
      }
    } catch {
      // Not JSON: answered as text, as a confused model would.
    }
  }
  const stopReason =
    text.finish === 'length' ? 'max_tokens' : toolName === undefined ? 'end_turn' : 'tool_use';
  return {
    id: `msg_fake_${seq}`,
    type: 'message',
    role: 'assistant',
    model,
    content: [block],
    stop_reason: stopReason,
    usage: { input_tokens: usage.input, output_tokens: usage.output },
  };
}
