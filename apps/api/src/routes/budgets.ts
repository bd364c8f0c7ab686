import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, TenantId } from '@agentry/schema';
import type { ApiDeps } from '../api-deps';
import { parseInput } from './parse-input';

const TenantParams = z.object({ tenantId: TenantId });
const Actor = z.string().min(1).max(128);
const Reason = z.string().max(2_000);
const SetBudget = z.strictObject({
  monthlyUsd: z.number().positive().max(1e12),
  thresholds: z
    .array(z.number().int().min(1).max(1_000))
    .min(1)
    .max(20)
    .refine((t) => new Set(t).size === t.length, 'thresholds must be unique')
    .optional(),
  actor: Actor.optional(),
  reason: Reason.optional(),
});
const RemoveQuery = z.object({ actor: Actor.optional(), reason: Reason.optional() });
const AlertsQuery = z.object({
  tenantId: TenantId.optional(),
  /** A month, `2025-03`. */
  period: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'period is a month: YYYY-MM')
    .optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});

/**
 * Tenant monthly budgets and their threshold alerts (see docs/budgets.md). Budgets answer with
 * month-to-date spend (`spentUsd`, `spentPct`); setting and removing one is audited.
 */
export function budgetRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { budgets, audit } = deps.engine.repos;

  app.get('/v1/budgets', async () => ({ budgets: await budgets.list() }));

  app.get('/v1/tenants/:tenantId/budget', async (request) => {
    const { tenantId } = parseInput(TenantParams, request.params, 'tenant id');
    const budget = await budgets.get(tenantId);
    if (!budget) throw new AppError('NOT_FOUND', `tenant ${tenantId} has no budget`);
    return budget;
  });

  app.put('/v1/tenants/:tenantId/budget', async (request) => {
    const { tenantId } = parseInput(TenantParams, request.params, 'tenant id');
    const body = parseInput(SetBudget, request.body, 'budget');
    const actor = body.actor ?? 'api';
    const previous = await budgets.get(tenantId);
    const { monthlyUsd, thresholds } = body;
    const budget = await budgets.set(tenantId, { monthlyUsd, thresholds, actor });
    await audit.record({
      actor,
      action: 'budget.set',
      targetType: 'tenant',
      targetId: tenantId,
      details: {
        monthlyUsd: budget.monthlyUsd,
        thresholds: budget.thresholds,
        previous: previous
          ? { monthlyUsd: previous.monthlyUsd, thresholds: previous.thresholds }
          : null,
        ...(body.reason === undefined ? {} : { reason: body.reason }),
      },
    });
    return budget;
  });

  app.delete('/v1/tenants/:tenantId/budget', async (request) => {
    const { tenantId } = parseInput(TenantParams, request.params, 'tenant id');
    const q = parseInput(RemoveQuery, request.query, 'query');
    const previous = await budgets.get(tenantId);
    if (!previous || !(await budgets.remove(tenantId))) {
      throw new AppError('NOT_FOUND', `tenant ${tenantId} has no budget`);
    }
    await audit.record({
      actor: q.actor ?? 'api',
      action: 'budget.remove',
      targetType: 'tenant',
      targetId: tenantId,
      details: {
        previous: { monthlyUsd: previous.monthlyUsd, thresholds: previous.thresholds },
        ...(q.reason === undefined ? {} : { reason: q.reason }),
      },
    });
    return { tenantId, removed: true };
  });

  app.get('/v1/budget-alerts', async (request) => {
    const q = parseInput(AlertsQuery, request.query, 'query');
    const alerts = await budgets.alerts({
      tenantId: q.tenantId,
      period: q.period === undefined ? undefined : `${q.period}-01`,
      limit: q.limit,
    });
    return { alerts };
  });
}
