import {
  conversationHistory,
  interpolateConversationVariables,
  type EngineDeps,
} from '@agentry/engine';
import type { RunRow } from '@agentry/db';
import type { ChatMessage } from '@agentry/llm';
import type { Intent } from '@agentry/schema';

/** What planning takes from the run's conversation. */
export interface PlanningContext {
  /** The intent with its conversation variables (`{{prev.<step>.<path>}}`…) filled in. */
  intent: Intent;
  /** Earlier turns for the model, within the token budget. */
  history: ChatMessage[];
}

const defaultContextTokens = 2_000;
const variable = /\{\{\s*(prev|turn)\b/;

/**
 * Load the earlier turns of the run's conversation (none without one): fill the intent's
 * conversation variables from their outputs (an unknown variable is a `VALIDATION` error: the
 * run fails with it) and turn them into chat history within `contextTokens`.
 */
export async function conversationContext(
  deps: EngineDeps & { contextTokens?: number },
  run: Pick<RunRow, 'tenantId' | 'conversationId' | 'turn'>,
  intent: Intent,
  log: { info(obj: object, msg: string): void },
): Promise<PlanningContext> {
  if (run.conversationId === null || run.turn === null || run.turn <= 1) {
    return { intent, history: [] };
  }
  const turns = await deps.repos.conversations.turns(run.tenantId, run.conversationId, {
    beforeTurn: run.turn,
  });
  const text = variable.test(intent.text)
    ? interpolateConversationVariables(intent.text, turns)
    : intent.text;
  const history = conversationHistory(turns, {
    maxTokens: deps.contextTokens ?? defaultContextTokens,
  });
  log.info(
    {
      conversationId: run.conversationId,
      turn: run.turn,
      included: history.included,
      summarised: history.summarised,
      dropped: history.dropped,
      contextTokens: history.tokens,
    },
    'conversation context loaded',
  );
  return { intent: text === intent.text ? intent : { ...intent, text }, history: history.messages };
}
