import type { FastifyInstance } from 'fastify';
import { runChecks } from '@agentry/observability';
import type { ApiDeps } from '../api-deps';

/** /healthz (alive), /readyz (dependencies usable), /metrics (Prometheus). No auth: cluster-internal. */
export function healthRoutes(app: FastifyInstance, deps: ApiDeps) {
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (draining) return reply.code(503).send({ status: 'draining' });
    const checks = await runChecks(deps.readiness, 2_000);
    const ready = Object.values(checks).every((r) => r === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', deps.registry.contentType).send(await deps.registry.metrics()),
  );
}
