import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CostWindow } from '@agentry/db';
import { buildCostReport } from '@agentry/engine';
import { AppError, TenantId, toError } from '@agentry/schema';
import type { ApiDeps } from '../api-deps';
import { parseInput } from './parse-input';

const dayMs = 86_400_000;
/** The longest window a report covers. */
const maxDays = 366;

/** An instant (`2025-03-01T00:00:00Z`, offset allowed) or a UTC day (`2025-03-01`). */
const Instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .transform((text) => new Date(text));

const ReportQuery = z.strictObject({
  from: Instant.optional(),
  to: Instant.optional(),
  /** The window's length back from `to`, when `from` is not given. @default 30 */
  days: z.coerce.number().int().min(1).max(maxDays).optional(),
  tenantId: TenantId.optional(),
});
type ReportQuery = z.output<typeof ReportQuery>;

/** The window of a query at `now`: `to` defaults to now, `from` to `days` (30) before `to`. */
function windowOf(q: ReportQuery, now: Date): CostWindow {
  const refuse = (path: string, message: string) =>
    new AppError('VALIDATION', `query is invalid: ${message}`, {
      details: { issues: [{ code: 'custom', path: [path], message }] },
    });
  if (q.from && q.days !== undefined) throw refuse('days', 'give from or days, not both');
  const to = q.to ?? now;
  const from = q.from ?? new Date(to.getTime() - (q.days ?? 30) * dayMs);
  if (from >= to) throw refuse('from', 'from must be before to');
  if (to.getTime() - from.getTime() > maxDays * dayMs) {
    throw refuse('from', `a report covers at most ${maxDays} days`);
  }
  return { from, to, ...(q.tenantId === undefined ? {} : { tenantId: q.tenantId }) };
}

/** `GET /v1/costs/report`: spend, projection, fleet cost and suggestions (docs/costs.md). */
export function costRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const clock = deps.engine.clock ?? (() => new Date());

  app.get('/v1/costs/report', async (request) => {
    const q = parseInput(ReportQuery, request.query, 'query');
    const costs = deps.costs;
    if (!costs) throw new AppError('UNAVAILABLE', 'the cost report is not configured on this API');
    const now = clock();
    const window = windowOf(q, now);
    const { workers, ...inputs } = costs;
    // Redis being down must not take the spend report with it: compute is then left out.
    const connected = await workers().catch((e: unknown) => {
      request.log.warn({ err: toError(e) }, 'cost report: cannot count the workers');
      return null;
    });
    return buildCostReport(
      { costReport: deps.engine.repos.costReport, clock: () => now },
      { ...inputs, window, workers: connected },
    );
  });
}
