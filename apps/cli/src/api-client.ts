import { AppError, toError, type ErrorCode } from '@agentry/schema';

export interface ApiClientOptions {
  baseUrl: string;
  /** The bearer token, or how to get it (a secret reference resolved on first use). */
  token?: string | (() => Promise<string | undefined>) | undefined;
  timeoutMs?: number;
}

/** A small client of the agentry HTTP API. Every call has a timeout; errors keep the API's code. */
export function createApiClient(options: ApiClientOptions) {
  const timeoutMs = options.timeoutMs ?? 10_000;
  async function call<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const token = typeof options.token === 'function' ? await options.token() : options.token;
    let response: Response;
    try {
      response = await fetch(new URL(path, options.baseUrl), {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new AppError(
        'UNAVAILABLE',
        `cannot reach the agentry API at ${options.baseUrl}: ${toError(e).message}`,
        {
          cause: e,
        },
      );
    }
    const text = await response.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      const err = (
        json as {
          error?: { code?: ErrorCode; message?: string; details?: Record<string, unknown> };
        }
      )?.error;
      throw new AppError(err?.code ?? 'INTERNAL', err?.message ?? `HTTP ${response.status}`, {
        details: { status: response.status, ...err?.details },
      });
    }
    return json as T;
  }
  return {
    get: <T>(path: string) => call<T>('GET', path),
    post: <T>(path: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>('POST', path, body ?? {}, headers),
    put: <T>(path: string, body: unknown) => call<T>('PUT', path, body),
    delete: <T>(path: string) => call<T>('DELETE', path),
  };
}
export type ApiClient = ReturnType<typeof createApiClient>;
