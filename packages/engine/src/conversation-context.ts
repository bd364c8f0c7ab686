import type { ConversationTurn } from '@agentry/db';
import { estimateTokens, type ChatMessage } from '@agentry/llm';
import { AppError } from '@agentry/schema';

/** Options of {@link conversationHistory}. */
export interface ConversationHistoryOptions {
  /** Most tokens the history may take, note included (estimated by {@link estimateTokens}). */
  maxTokens: number;
  /** Characters of one step output's JSON in a full turn. @default 240 */
  outputChars?: number;
  /** Step outputs shown per full turn, in plan order; the rest are counted. @default 8 */
  maxOutputs?: number;
}

/** The earlier turns as chat messages, and what became of each turn (turn numbers, oldest first). */
export interface ConversationHistory {
  messages: ChatMessage[];
  /** Turns given in full: the intent, then the plan, outcome and key outputs. */
  included: number[];
  /** Turns given as one line. */
  summarised: number[];
  dropped: number[];
  /** Estimated tokens of `messages`; never more than `maxTokens`. */
  tokens: number;
}

const intentChars = 160;
const noteFor = (dropped: number, summarised: number) =>
  `Earlier turns of this conversation follow, oldest first. To fit the context budget, ` +
  `${dropped} older turn(s) were dropped and ${summarised} turn(s) are summarised to one line.`;

/**
 * The earlier turns of a conversation as chat messages for the planner, within `maxTokens`.
 * Pure; never throws.
 *
 * The rule: room for one note message is reserved first. Then, newest turn first, a turn is
 * included in full (a user message with its intent and an assistant message with its plan
 * summary, outcome, error and key outputs) if both fit the remaining budget; otherwise its
 * one-line summary (`turn N: <intent, cut to 160 chars> → <state>`, a user message) if that
 * fits; once neither fits, that turn and every older one are dropped. The messages are then put
 * in chronological order, preceded by the note saying how many earlier turns were dropped and
 * summarised. No turns (or no room for the note): no messages.
 */
export function conversationHistory(
  turns: readonly ConversationTurn[],
  options: ConversationHistoryOptions,
): ConversationHistory {
  // Neither count can exceed the number of turns, so this is the longest the note can be.
  const reserve = estimateTokens(noteFor(turns.length, turns.length));
  let remaining = options.maxTokens - reserve;
  if (turns.length === 0 || remaining < 0) return emptyHistory(turns);
  const placed: Array<{ turn: number; full: boolean; messages: ChatMessage[] }> = [];
  const newestFirst = [...turns].sort((a, b) => b.turn - a.turn);
  for (const turn of newestFirst) {
    const full = fullTurn(turn, options);
    const summary: ChatMessage[] = [{ role: 'user', content: summaryLine(turn) }];
    const choice = [full, summary].find((m) => tokensOf(m) <= remaining);
    if (!choice) break;
    remaining -= tokensOf(choice);
    placed.push({ turn: turn.turn, full: choice === full, messages: choice });
  }
  const chronological = [...placed].reverse();
  const included = chronological.filter((p) => p.full).map((p) => p.turn);
  const summarised = chronological.filter((p) => !p.full).map((p) => p.turn);
  const dropped = newestFirst
    .slice(placed.length)
    .map((t) => t.turn)
    .reverse();
  const note: ChatMessage = {
    role: 'user',
    content: noteFor(dropped.length, summarised.length),
  };
  const messages = [note, ...chronological.flatMap((p) => p.messages)];
  return { messages, included, summarised, dropped, tokens: tokensOf(messages) };
}

/** The one-line form of a turn: `turn N: <intent, cut to 160 chars> → <state>`. */
export function summaryLine(turn: Pick<ConversationTurn, 'turn' | 'intentText' | 'state'>): string {
  return `turn ${turn.turn}: ${cut(turn.intentText.replace(/\s+/g, ' '), intentChars)} → ${turn.state}`;
}

function fullTurn(turn: ConversationTurn, options: ConversationHistoryOptions): ChatMessage[] {
  const { outputChars = 240, maxOutputs = 8 } = options;
  const plan =
    turn.planSummary === null
      ? 'Plan: none (the run was not planned)'
      : `Plan (${turn.planSource ?? 'unknown'}, ${turn.producedBy ?? 'unknown'}): ${turn.planSummary}`;
  const lines = [`Turn ${turn.turn}.`, plan, `Outcome: ${turn.state}`];
  if (turn.error) lines.push(`Error: [${turn.error.code}] ${turn.error.message}`);
  const shown = turn.outputs.slice(0, maxOutputs);
  if (shown.length > 0) lines.push('Outputs:');
  for (const o of shown)
    lines.push(`- ${o.stepId} (${o.tool}): ${cut(compactJson(o.output), outputChars)}`);
  const more = turn.outputs.length - shown.length;
  if (more > 0) lines.push(`- … and ${more} more output(s)`);
  return [
    { role: 'user', content: turn.intentText },
    { role: 'assistant', content: lines.join('\n') },
  ];
}

function emptyHistory(turns: readonly ConversationTurn[]): ConversationHistory {
  const dropped = turns.map((t) => t.turn).sort((a, b) => a - b);
  return { messages: [], included: [], summarised: [], dropped, tokens: 0 };
}

const tokensOf = (messages: readonly ChatMessage[]) =>
  messages.reduce((sum, m) => sum + estimateTokens(m.content), 0);

const cut = (text: string, max: number) =>
  text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;

/** JSON without spaces; `undefined` (no output) as `null`. */
const compactJson = (value: unknown) => JSON.stringify(value) ?? 'null';

const variable = /\{\{\s*((?:prev|turn)(?:\.[^{}\s]*)?)\s*\}\}/g;

/**
 * Fill conversation variables in a template string (used by the template planner):
 * `{{prev.intent}}` is the most recent turn's intent, `{{prev.<stepId>.<json.path>}}` the
 * output of that step in the most recent turn (the whole output without a path), and
 * `{{turn.<n>.intent}}` / `{{turn.<n>.<stepId>.<json.path>}}` the same for turn n. A path walks
 * object keys and array indexes (`items.0.id`). Strings are inserted as they are, other values
 * as JSON. Other `{{…}}` placeholders are left untouched; text without `{{` is returned as is.
 * Throws `AppError('VALIDATION')` naming the variable and what exists, for an unknown variable,
 * turn or step, or a path with no value.
 */
export function interpolateConversationVariables(
  text: string,
  turns: readonly ConversationTurn[],
): string {
  if (!text.includes('{{')) return text;
  return text.replace(variable, (_, name: string) => asText(resolve(name, turns)));
}

function resolve(name: string, turns: readonly ConversationTurn[]): unknown {
  const [scope, ...rest] = name.split('.');
  const turn = scope === 'prev' ? latest(name, turns) : numbered(name, rest.shift(), turns);
  const [field, ...path] = rest;
  if (field === undefined || field === '') {
    throw invalid(name, `name what to read: intent, or a step of turn ${turn.turn}`, stepsOf(turn));
  }
  if (field === 'intent' && path.length === 0) return turn.intentText;
  const output = turn.outputs.find((o) => o.stepId === field);
  if (!output) {
    throw invalid(name, `turn ${turn.turn} (${turn.state}) has no output of step "${field}"`, [
      'intent',
      ...stepsOf(turn),
    ]);
  }
  return path.reduce<unknown>((value, key, i) => {
    const next = child(value, key);
    if (next === undefined) {
      throw invalid(
        name,
        `no value at "${[field, ...path.slice(0, i + 1)].join('.')}"`,
        keysOf(value),
      );
    }
    return next;
  }, output.output);
}

function latest(name: string, turns: readonly ConversationTurn[]): ConversationTurn {
  const newest = turns.reduce<ConversationTurn | undefined>(
    (best, t) => (best === undefined || t.turn > best.turn ? t : best),
    undefined,
  );
  if (!newest) throw invalid(name, 'this conversation has no earlier turn', []);
  return newest;
}

function numbered(
  name: string,
  n: string | undefined,
  turns: readonly ConversationTurn[],
): ConversationTurn {
  const found = /^[1-9]\d*$/.test(n ?? '') ? turns.find((t) => t.turn === Number(n)) : undefined;
  if (!found) {
    const known = turns.map((t) => `turn.${t.turn}`);
    throw invalid(name, `no earlier turn "${n ?? ''}" in this conversation`, known);
  }
  return found;
}

function child(value: unknown, key: string): unknown {
  if (Array.isArray(value)) return /^\d+$/.test(key) ? value[Number(key)] : undefined;
  if (value !== null && typeof value === 'object' && Object.hasOwn(value, key)) {
    return (value as Record<string, unknown>)[key];
  }
  return undefined;
}

const stepsOf = (turn: ConversationTurn) => turn.outputs.map((o) => o.stepId);

const keysOf = (value: unknown): string[] =>
  value !== null && typeof value === 'object' ? Object.keys(value) : [];

const asText = (value: unknown) =>
  typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');

function invalid(name: string, problem: string, available: readonly string[]): AppError {
  const known = available.length > 0 ? `; available: ${available.join(', ')}` : '';
  return new AppError('VALIDATION', `conversation variable {{${name}}}: ${problem}${known}`, {
    details: { variable: name, available },
  });
}
