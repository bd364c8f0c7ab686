import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One scripted answer of the {@link FakeLlmServer}. */
export type FakeAnswer =
  /** A well-formed answer whose text is `content` (an object is sent as its JSON). */
  | {
      kind: 'ok';
      content: string | object;
      delayMs?: number;
      usage?: { input: number; output: number };
    }
  /** An error status; `retryAfter` becomes the `Retry-After` header verbatim. */
  | { kind: 'status'; status: number; retryAfter?: string; body?: unknown }
  /** Accept the request and never answer (until the server closes). */
  | { kind: 'hang' }
  /** 200 with a body that is not JSON. */
  | { kind: 'garbage' }
  /** Destroy the socket without answering. */
  | { kind: 'reset' };

/** Which API a recorded request spoke. */
export type FakeApi = 'openai' | 'anthropic';

/** A request as the server received it. */
export interface RecordedRequest {
  api: FakeApi;
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
}

export interface FakeLlmServerOptions {
  /** The only key the server accepts (bearer, `api-key` or `x-api-key`). @default 'test-key' */
  apiKey?: string;
  /** Answer when the script is empty. @default a tiny valid JSON object */
  defaultAnswer?: FakeAnswer;
}

export interface FakeLlmServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`; the OpenAI base URL is `${url}/v1`. */
  readonly url: string;
  /** Every request so far, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** Hung requests whose connection is still open (0 once every caller has given up). */
  openHungRequests(): number;
  /** Queue answers for the next calls, in order; later calls get the default answer. */
  script(...answers: FakeAnswer[]): void;
  /** Forget the script and the recorded requests. */
  reset(): void;
  /** Stop listening and cut every open connection (hung ones too). Safe to call twice. */
  close(): Promise<void>;
}

const defaultOk: FakeAnswer = { kind: 'ok', content: { ok: true } };

/**
 * A real HTTP server on 127.0.0.1 speaking enough of the OpenAI chat-completions API
 * (`POST /v1/chat/completions`) and of the Anthropic Messages API (`POST /v1/messages`)
 * for the providers' tests, with scripted answers and faults per call.
 */
export async function startFakeLlmServer(
  options: FakeLlmServerOptions = {},
): Promise<FakeLlmServer> {
  const { apiKey = 'test-key', defaultAnswer = defaultOk } = options;
  const queue: FakeAnswer[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const hung = new Set<Socket>();
  let seq = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    const path = (req.url ?? '').split('?')[0];
    const api: FakeApi | undefined =
      path === '/v1/chat/completions' || path?.endsWith('/chat/completions')
        ? 'openai'
        : path === '/v1/messages'
          ? 'anthropic'
          : undefined;
    if (req.method !== 'POST' || api === undefined) return send(res, 404, { error: 'not found' });
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Recorded as raw text.
    }
    requests.push({ api, method: req.method, url: req.url ?? '', headers: req.headers, body });
    if (!authorised(api, req)) {
      return send(res, 401, { error: { type: 'authentication_error', message: 'invalid key' } });
    }
    if (api === 'anthropic' && req.headers['anthropic-version'] === undefined) {
      return send(res, 400, { error: { type: 'invalid_request_error', message: 'no version' } });
    }
    const answer = queue.shift() ?? defaultAnswer;
    switch (answer.kind) {
      case 'hang':
        hung.add(req.socket);
        req.socket.once('close', () => hung.delete(req.socket));
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
        if (answer.delayMs !== undefined) await delay(answer.delayMs);
        if (res.destroyed) return;
        const content =
          typeof answer.content === 'string' ? answer.content : JSON.stringify(answer.content);
        const usage = answer.usage ?? { input: 11, output: 7 };
        const model = modelOf(body);
        seq += 1;
        return send(
          res,
          200,
          api === 'openai'
            ? openAiAnswer(seq, model, content, usage)
            : anthropicAnswer(seq, model, content, usage, toolNameOf(body)),
        );
      }
    }
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

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
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
    requests,
    openHungRequests: () => hung.size,
    script: (...answers) => void queue.push(...answers),
    reset: () => {
      queue.length = 0;
      requests.length = 0;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function openAiAnswer(
  seq: number,
  model: string,
  content: string,
  usage: { input: number; output: number },
) {
  return {
    id: `chatcmpl-fake-${seq}`,
    object: 'chat.completion',
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: usage.input,
      completion_tokens: usage.output,
      total_tokens: usage.input + usage.output,
    },
  };
}

/** With a forced tool, a JSON object answer comes back as that tool's `input` (tool-use style). */
function anthropicAnswer(
  seq: number,
  model: string,
  content: string,
  usage: { input: number; output: number },
  toolName: string | undefined,
) {
  let block: object = { type: 'text', text: content };
  if (toolName !== undefined) {
    try {
      const input: unknown = JSON.parse(content);
      if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
        block = { type: 'tool_use', id: `toolu_fake_${seq}`, name: toolName, input };
      }
    } catch {
      // Not JSON: answered as text, as a confused model would.
    }
  }
  return {
    id: `msg_fake_${seq}`,
    type: 'message',
    role: 'assistant',
    model,
    content: [block],
    stop_reason: toolName === undefined ? 'end_turn' : 'tool_use',
    usage: { input_tokens: usage.input, output_tokens: usage.output },
  };
}

function modelOf(body: unknown): string {
  const model = (body as { model?: unknown } | null)?.model;
  return typeof model === 'string' ? model : 'unknown';
}

function toolNameOf(body: unknown): string | undefined {
  const choice = (body as { tool_choice?: { type?: unknown; name?: unknown } } | null)?.tool_choice;
  return choice?.type === 'tool' && typeof choice.name === 'string' ? choice.name : undefined;
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
