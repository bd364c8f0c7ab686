import { z } from 'zod';
import { fakeAnswerSchema, type FakeAnswer } from './fake-answer';

/** Counters of a fake server, as `GET /_fake/stats` reports them. */
export interface FakeStats {
  /** Model API requests since the last reset (control requests not counted). */
  requests: number;
  byApi: { openai: number; anthropic: number };
  /** Hung requests whose connection is still open. */
  openHung: number;
  /** Scripted answers not yet used. */
  scripted: number;
  /**
   * The kind of the sticky mode (`mixed` for a list of answers of several kinds), or null when
   * requests get the default answer.
   */
  mode: FakeAnswer['kind'] | 'mixed' | null;
}

/** What the control API drives: the server's own methods. */
export interface FakeControls {
  script(...answers: FakeAnswer[]): void;
  setMode(answer: FakeAnswer | readonly FakeAnswer[], options?: { times?: number }): void;
  stats(): FakeStats;
  reset(): void;
}

/** The prefix of the control routes. */
export const controlPrefix = '/_fake/';

const scriptBody = z.array(fakeAnswerSchema).max(10_000);
const modeList = z.array(fakeAnswerSchema).min(1).max(1_000);
const modeTimes = z.number().int().positive().optional();

type Reply = { status: number; body: unknown };
type Checked<T> = { ok: true; value: T } | { ok: false; reply: Reply };

/**
 * Answer one control request: `POST /_fake/script` (an array of answers), `POST /_fake/mode`
 * (an answer, or `{ answers: [...] }` dealt in turn; plus `times` optionally), `GET /_fake/stats`, `POST /_fake/reset`. A bad body is
 * a 400 naming the problem. Never throws.
 */
export function handleControl(
  controls: FakeControls,
  method: string,
  path: string,
  text: string,
): Reply {
  const route = `${method} ${path}`;
  switch (route) {
    case 'GET /_fake/stats':
      return { status: 200, body: controls.stats() };
    case 'POST /_fake/reset':
      controls.reset();
      return { status: 200, body: controls.stats() };
    case 'POST /_fake/script': {
      const answers = check(
        jsonOf(text),
        scriptBody,
        route,
        'the body must be an array of answers',
      );
      if (!answers.ok) return answers.reply;
      controls.script(...answers.value);
      return { status: 200, body: controls.stats() };
    }
    case 'POST /_fake/mode': {
      const json = jsonOf(text);
      // `times` rides along with the answer's own fields (or with `answers`, a mixed mode).
      const { times: rawTimes, ...rest } =
        typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
      const answer =
        'answers' in rest && !Array.isArray(json)
          ? check(rest.answers, modeList, route, '`answers` must be a non-empty array of answers')
          : check(
              json === undefined ? json : rest,
              fakeAnswerSchema,
              route,
              'the body must be an answer',
            );
      if (!answer.ok) return answer.reply;
      const times = check(rawTimes, modeTimes, route, '`times` must be a whole number ≥ 1');
      if (!times.ok) return times.reply;
      controls.setMode(answer.value, times.value === undefined ? {} : { times: times.value });
      return { status: 200, body: controls.stats() };
    }
  }
  return { status: 404, body: { error: `no control route ${route}; there are: ${routes}` } };
}

const routes = 'GET /_fake/stats, POST /_fake/reset, POST /_fake/script, POST /_fake/mode';

/** The parsed body, or undefined when it is not JSON (undefined is not a JSON value). */
function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function check<S extends z.ZodType>(
  json: unknown,
  schema: S,
  route: string,
  what: string,
): Checked<z.output<S>> {
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  const problem =
    json === undefined ? 'the body is not JSON' : `${what}: ${z.prettifyError(result.error)}`;
  return {
    ok: false,
    reply: {
      status: 400,
      body: { error: `${route}: ${problem}`, issues: result.error.issues },
    },
  };
}
