import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { FakeAnswer, FakeUsage } from './fake-answer';
import { controlPrefix, handleControl, type FakeControls, type FakeStats } from './fake-control';
import { estimateTokens, fakeText, type FakePlanSource, type FakeText } from './fake-plan';
import { forcedToolOf, readFakeRequest, type FakeApi } from './fake-request';
import { anthropicAnswer, openAiAnswer } from './fake-wire';

/** A request as the server received it. */
export interface RecordedRequest {
  api: FakeApi;
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
  /** When it arrived (`Date.now()`). */
  at: number;
  /** The kind of answer it was given; `refused` for a bad key or a missing Anthropic version. */
  answer: FakeAnswer['kind'] | 'refused';
  /** For a `hang`: ms from arrival until the caller (or `close()`) cut the connection. */
  hungForMs?: number;
}

export interface FakeLlmServerOptions {
  /** The only key the server accepts (bearer, `api-key` or `x-api-key`). @default 'test-key' */
  apiKey?: string;
  /** Port on 127.0.0.1 (always 127.0.0.1). @default 0, an ephemeral port */
  port?: number;
  /** Answer when neither the script nor a mode applies. @default `{ kind: 'plan' }` */
  defaultAnswer?: FakeAnswer;
  /**
   * The plan a `plan` (or `truncated`) answer gives a planning request, instead of the one-step
   * echo plan: return a plan object (the model's part: `summary`, `steps`, …), or `undefined`
   * for the default. Lets a test have the "model" plan real work.
   */
  planFor?: FakePlanSource;
}

export interface FakeLlmServer extends FakeControls, AsyncDisposable {
  /** `http://127.0.0.1:<port>`; the OpenAI base URL is `${url}/v1`, Anthropic's is `url`. */
  readonly url: string;
  readonly port: number;
  /** Every model API request since the last reset, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** `requests.length`. */
  requestCount(): number;
  /** Hung requests whose connection is still open (0 once every caller has given up). */
  openHungRequests(): number;
  /** Queue one-shot answers for the next calls, in order; they win over the mode. */
  script(...answers: FakeAnswer[]): void;
  /**
   * Answer every call the script does not with `answer` (for the next `times` calls only, if
   * given) — an outage, a slow provider — until {@link clearMode} or {@link reset}. A list of
   * answers is dealt in turn, round and round: an outage mixing 500s, 429s, hangs and garbage.
   */
  setMode(answer: FakeAnswer | readonly FakeAnswer[], options?: { times?: number }): void;
  /** Back to the default answer. */
  clearMode(): void;
  /** Accept only `key` from now on: the provider side of a key rotation. */
  setApiKey(key: string): void;
  stats(): FakeStats;
  /** Forget the script, the mode and the recorded requests. */
  reset(): void;
  /** Stop listening and cut every open connection (hung ones too). Safe to call twice. */
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 speaking enough of the OpenAI chat-completions API
 * (`POST …/chat/completions`) and of the Anthropic Messages API (`POST /v1/messages`) to stand
 * in for a model: scripted answers and faults per call, a sticky mode for outages, a valid plan
 * by default, and a control API under `/_fake/` for other processes (docs/fake-llm-server.md).
 * Rejects when the port cannot be bound.
 */
export async function startFakeLlmServer(
  options: FakeLlmServerOptions = {},
): Promise<FakeLlmServer> {
  const { port: wantedPort = 0 } = options;
  let apiKey = options.apiKey ?? 'test-key';
  const defaultAnswer: FakeAnswer = options.defaultAnswer ?? { kind: 'plan' };
  const queue: FakeAnswer[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const hung = new Set<Socket>();
  let mode: { answers: readonly FakeAnswer[]; dealt: number; left: number } | undefined;
  let seq = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const controls: FakeControls & Pick<FakeLlmServer, 'clearMode'> = {
    script: (...answers) => void queue.push(...answers),
    setMode: (answer, { times = Infinity } = {}) => {
      const answers = Array.isArray(answer) ? [...answer] : [answer as FakeAnswer];
      if (answers.length === 0) throw new RangeError('setMode: a mode needs at least one answer');
      mode = { answers, dealt: 0, left: times };
    },
    clearMode: () => void (mode = undefined),
    stats: () => ({
      requests: requests.length,
      byApi: {
        openai: requests.filter((r) => r.api === 'openai').length,
        anthropic: requests.filter((r) => r.api === 'anthropic').length,
      },
      openHung: hung.size,
      scripted: queue.length,
      mode: modeName(mode?.answers),
    }),
    reset: () => {
      queue.length = 0;
      requests.length = 0;
      mode = undefined;
    },
  };

  function nextAnswer(): FakeAnswer {
    const scripted = queue.shift();
    if (scripted !== undefined) return scripted;
    if (mode === undefined) return defaultAnswer;
    const answer = mode.answers[mode.dealt % mode.answers.length] as FakeAnswer;
    mode.dealt += 1;
    mode.left -= 1;
    if (mode.left <= 0) mode = undefined;
    return answer;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    const method = req.method ?? 'GET';
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path.startsWith(controlPrefix)) {
      // Bound to 127.0.0.1 anyway; this keeps the guarantee if that ever changes.
      if (!isLoopback(req.socket.remoteAddress)) {
        return send(res, 403, { error: 'the control API answers loopback clients only' });
      }
      const reply = handleControl(controls, method, path, text);
      return send(res, reply.status, reply.body);
    }
    const api = apiOf(path);
    if (method !== 'POST' || api === undefined) return send(res, 404, { error: 'not found' });
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Recorded as raw text.
    }
    const recorded: RecordedRequest = {
      api,
      method,
      url: req.url ?? '',
      headers: req.headers,
      body,
      at: Date.now(),
      answer: 'refused',
    };
    requests.push(recorded);
    if (!authorised(api, req)) {
      return send(res, 401, { error: { type: 'authentication_error', message: 'invalid key' } });
    }
    if (api === 'anthropic' && req.headers['anthropic-version'] === undefined) {
      return send(res, 400, { error: { type: 'invalid_request_error', message: 'no version' } });
    }
    const answer = nextAnswer();
    recorded.answer = answer.kind;
    if ('delayMs' in answer && answer.delayMs !== undefined) await delay(answer.delayMs);
    // The caller gave up while we waited.
    if (res.destroyed) return;
    switch (answer.kind) {
      case 'hang':
        hung.add(req.socket);
        req.socket.once('close', () => {
          hung.delete(req.socket);
          recorded.hungForMs = Date.now() - recorded.at;
        });
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('<html>502 bad gateway</html>{');
        return;
      case 'status': {
        const headers: Record<string, string> = {};
        if (answer.retryAfter !== undefined) headers['retry-after'] = answer.retryAfter;
        return send(res, answer.status, answer.body ?? { error: { message: 'scripted' } }, headers);
      }
      case 'ok': {
        const content =
          typeof answer.content === 'string' ? answer.content : JSON.stringify(answer.content);
        return answerWith(res, api, body, { content, finish: 'stop' }, answer.usage ?? okUsage);
      }
      case 'plan':
      case 'invalid-plan':
      case 'unknown-tool':
      case 'truncated': {
        const generated = fakeText(answer.kind, readFakeRequest(api, body), options.planFor);
        const usage = answer.usage ?? {
          input: estimateTokens(text),
          output: estimateTokens(generated.content),
        };
        return answerWith(res, api, body, generated, usage);
      }
    }
  }

  function answerWith(
    res: ServerResponse,
    api: FakeApi,
    body: unknown,
    generated: FakeText,
    usage: FakeUsage,
  ): void {
    seq += 1;
    const model = modelOf(body);
    send(
      res,
      200,
      api === 'openai'
        ? openAiAnswer(seq, model, generated, usage)
        : anthropicAnswer(seq, model, generated, usage, forcedToolOf(body)),
    );
  }

  function authorised(api: FakeApi, req: IncomingMessage): boolean {
    if (api === 'anthropic') return req.headers['x-api-key'] === apiKey;
    return req.headers.authorization === `Bearer ${apiKey}` || req.headers['api-key'] === apiKey;
  }

  function delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(wantedPort, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;

  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const timer of timers) clearTimeout(timer);
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return closing;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    requestCount: () => requests.length,
    setApiKey: (key) => {
      apiKey = key;
    },
    openHungRequests: () => hung.size,
    ...controls,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** What an `ok` answer reports when it names no usage. */
const okUsage: FakeUsage = { input: 11, output: 7 };

function modeName(answers: readonly FakeAnswer[] | undefined): FakeStats['mode'] {
  if (answers === undefined) return null;
  const kinds = new Set(answers.map((a) => a.kind));
  return kinds.size === 1 ? (answers[0] as FakeAnswer).kind : 'mixed';
}

function apiOf(path: string): FakeApi | undefined {
  if (path === '/v1/messages') return 'anthropic';
  if (path.endsWith('/chat/completions')) return 'openai';
  return undefined;
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

function modelOf(body: unknown): string {
  const model = (body as { model?: unknown } | null)?.model;
  return typeof model === 'string' ? model : 'unknown';
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
