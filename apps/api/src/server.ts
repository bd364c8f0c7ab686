import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import { HttpMetrics, refusalOf, type HttpObservation } from '@agentry/observability';
import { AppError, limits, toError } from '@agentry/schema';
import type { ApiDeps } from './api-deps';
import { bearerAuth } from './auth';
import { registerBoard } from './board';
import { errorBody } from './http-error';
import { adminRoutes } from './routes/admin';
import { budgetRoutes } from './routes/budgets';
import { conversationRoutes } from './routes/conversations';
import { costRoutes } from './routes/costs';
import { deadLetterRoutes } from './routes/dead-letters';
import { healthRoutes } from './routes/health';
import { runRoutes } from './routes/runs';

const correlationHeader = 'x-correlation-id';
const safeId = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The HTTP gateway: the /v1 API for producers and operators, health and metrics, and Bull Board
 * for its viewers and operators (board.ts). Built, not started: the caller listens and closes.
 */
export async function buildServer(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; widening keeps route modules on the default instance type.
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: limits.payloadMaxBytes,
    // One 'request' line per response (below) instead of Fastify's two, keyed by correlation id.
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: 'correlationId',
    }),
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers[correlationHeader];
      return typeof given === 'string' && safeId.test(given) ? given : randomUUID();
    },
  });

  // Bodies the JSON parser refused, by request: a refused submission is kept with what was sent.
  const unparsed = new WeakMap<FastifyRequest, string>();

  const metrics = new HttpMetrics(deps.registry);
  // Error answers by request, read off their body whichever path sent it (a route, the error
  // handler, the auth hook): what the refusal counter is labelled with.
  const refusals = new WeakMap<FastifyRequest, NonNullable<HttpObservation['refusal']>>();

  app.addHook('onSend', async (request, reply, payload) => {
    void reply.header(correlationHeader, request.id);
    if (reply.statusCode >= 400 && typeof payload === 'string') {
      const refusal = refusalOf(reply.statusCode, payload);
      if (refusal) refusals.set(request, refusal);
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    const observed = {
      method: request.method,
      route: request.routeOptions.url,
      status: reply.statusCode,
      durationMs: reply.elapsedTime,
    };
    metrics.observe({ ...observed, refusal: refusals.get(request) });
    request.log.info(
      {
        method: observed.method,
        route: observed.route,
        status: observed.status,
        ms: Math.round(observed.durationMs),
      },
      'request',
    );
  });

  app.setErrorHandler(async (err, request, reply) => {
    const raw = err as { code?: string; statusCode?: number };
    let mapped: unknown = err;
    if (raw.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const message = `request body is larger than ${limits.payloadMaxBytes} bytes`;
      const tooLarge = new AppError('VALIDATION', message);
      // The body itself was never read past the limit, and is not stored (a size attack would
      // fill the database): what is kept is that it was refused, its size and its type.
      const kept = await keepRefusedSubmission(request, tooLarge, {
        refused: 'body too large',
        contentLength: Number(request.headers['content-length'] ?? NaN) || null,
        contentType: request.headers['content-type'] ?? null,
      });
      return reply.code(413).send({
        error: {
          code: 'VALIDATION',
          message,
          ...(kept ? { details: { deadLetterId: kept.id } } : {}),
        },
      });
    }
    if (raw.statusCode !== undefined && raw.statusCode >= 400 && raw.statusCode < 500) {
      mapped = new AppError('VALIDATION', toError(err).message);
    }
    // No resolved secret leaves in an answer, a log line or the kept submission.
    const { status, body, error } = errorBody(deps.scrubError?.(mapped) ?? mapped);
    // A dependency down is for its own alert to raise: one warning per refused request, no stack.
    if (error.code === 'UNAVAILABLE') {
      request.log.warn({ code: error.code, reason: error.message }, 'request refused');
    } else if (status >= 500) request.log.error({ err: error }, 'request failed');
    const retryAfterMs = error.details?.retryAfterMs;
    if (typeof retryAfterMs === 'number' && retryAfterMs > 0) {
      void reply.header('retry-after', String(Math.ceil(retryAfterMs / 1_000)));
    }
    if (status === 400) {
      const kept = await keepRefusedSubmission(
        request,
        error,
        request.body ?? unparsed.get(request) ?? null,
      );
      if (kept) body.error.details = { ...body.error.details, deadLetterId: kept.id };
    }
    return reply.code(status).send(body);
  });

  /** Bad input is kept for inspection: a refused submission becomes a dead letter. */
  const keepRefusedSubmission = async (
    request: FastifyRequest,
    error: AppError,
    payload: unknown,
  ) => {
    if (request.method !== 'POST' || request.routeOptions.url !== '/v1/runs') return undefined;
    return deps.engine.repos.deadLetters
      .capture({
        sourceQueue: 'api',
        jobId: `submit.${request.id}`,
        jobName: 'submit',
        correlationId: request.id,
        reason: error.message,
        errorCode: error.code,
        // The AppError itself, so the record keeps its code, message and issues (its toJSON);
        // `error.details` alone was serialised as an error without them.
        error,
        attempts: 0,
        payload,
      })
      .catch(() => undefined);
  };
  app.setNotFoundHandler(async (request, reply) =>
    reply
      .code(404)
      .send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` } }),
  );

  healthRoutes(app, deps);
  await app.register(async (v1) => {
    if (deps.apiToken) v1.addHook('onRequest', bearerAuth(deps.apiToken));
    keepUnparsedBodies(v1, unparsed);
    runRoutes(v1, deps);
    deadLetterRoutes(v1, deps);
    costRoutes(v1, deps);
    adminRoutes(v1, deps);
    budgetRoutes(v1, deps);
    conversationRoutes(v1, deps);
  });

  if (deps.board) {
    await registerBoard(app, {
      ...deps.board,
      token: deps.apiToken,
      audit: deps.engine.repos.audit,
    });
  }
  return app;
}

/**
 * Body parsing of the /v1 routes, so that bad input is refused with issues and kept (never
 * dropped by the parser): malformed JSON becomes a VALIDATION error with an `invalid_json` issue
 * and its text is remembered in `unparsed`; any other content type reaches the route as text,
 * where the intent schema refuses it (Fastify would answer 415 and keep nothing).
 */
function keepUnparsedBodies(v1: FastifyInstance, unparsed: WeakMap<FastifyRequest, string>) {
  const parseJson = v1.getDefaultJsonParser('error', 'error');
  v1.removeContentTypeParser('application/json');
  v1.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    // The default parser is synchronous (it calls `done`); `void` only satisfies its union type.
    void parseJson(request, text, (err, value) => {
      if (!err) return done(null, value);
      unparsed.set(request, text);
      done(
        new AppError('VALIDATION', 'request body is not valid JSON', {
          details: { issues: [{ code: 'invalid_json', path: [], message: err.message }] },
        }),
      );
    });
  });
  v1.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
}
