/** The parts of the API's answers the bad-input scenario reads. */
export interface ErrorAnswer {
  error: {
    code: string;
    message: string;
    details?: {
      issues?: Array<{ path: Array<string | number>; code: string; message: string }>;
      deadLetterId?: string;
    };
  };
}

export interface RunAnswer {
  run: {
    id: string;
    state: string;
    intent: { text: string; tenantId: string; metadata: Record<string, unknown> };
    error: { code: string; message: string; details?: Record<string, unknown> } | null;
    planning: {
      hops: Array<{ planner: string; outcome: string; code?: string; reason?: string }>;
    } | null;
  };
  plan: { source: string; producedBy: string; hash: string } | null;
  steps: Array<{
    stepId: string;
    tool: string;
    state: string;
    attempts: number;
    error: { code: string; message: string; details?: Record<string, unknown> } | null;
  }>;
  llmCalls: Array<{ outcome: string }>;
}

export interface DeadLetter {
  id: string;
  sourceQueue: string;
  jobId: string;
  jobName: string;
  runId: string | null;
  stepId: string | null;
  reason: string;
  errorCode: string;
  attempts: number;
  payload: unknown;
}

export interface Answer<T> {
  status: number;
  body: T;
  text: string;
}

export const terminalRunStates: ReadonlySet<string> = new Set([
  'succeeded',
  'failed',
  'rejected',
  'cancelled',
]);

/**
 * A client of the fleet's API that sends the bearer token (the fleet runs with one, as in
 * production) and any body as is: a value is sent as JSON, `raw` exactly as given.
 */
export class ChaosApi {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async send<T = unknown>(
    method: string,
    path: string,
    body?: { json: unknown } | { raw: string | Uint8Array; contentType?: string },
    headers: Record<string, string> = {},
  ): Promise<Answer<T>> {
    const init: RequestInit = {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...headers },
      signal: AbortSignal.timeout(10_000),
    };
    if (body !== undefined && 'json' in body) {
      init.headers = { ...init.headers, 'content-type': 'application/json' };
      init.body = JSON.stringify(body.json);
    } else if (body !== undefined) {
      init.headers = { ...init.headers, 'content-type': body.contentType ?? 'application/json' };
      init.body = body.raw;
    }
    const res = await fetch(`${this.baseUrl}${path}`, init);
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed as T, text };
  }

  run(runId: string): Promise<Answer<RunAnswer>> {
    return this.send<RunAnswer>('GET', `/v1/runs/${runId}`);
  }

  /** Poll a run until `until(state)` holds. */
  async waitForRun(
    runId: string,
    until: (state: string) => boolean = (s) => terminalRunStates.has(s),
    timeoutMs = 20_000,
  ): Promise<RunAnswer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { status, body } = await this.run(runId);
      if (status === 200 && until(body.run.state)) return body;
      if (Date.now() > deadline)
        throw new Error(`run ${runId} is ${status === 200 ? body.run.state : String(status)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async deadLetters(queue: string): Promise<DeadLetter[]> {
    const { body } = await this.send<{ deadLetters: DeadLetter[] }>(
      'GET',
      `/v1/dead-letters?queue=${encodeURIComponent(queue)}&limit=500&includeReplayed=true`,
    );
    return body.deadLetters;
  }

  /** Poll until the dead letter of `jobId` on `queue` exists. */
  async waitForDeadLetter(queue: string, jobId: string, timeoutMs = 15_000): Promise<DeadLetter> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.deadLetters(queue)).find((d) => d.jobId === jobId);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no dead letter for ${queue} ${jobId}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
