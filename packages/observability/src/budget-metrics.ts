import { Counter, type Registry } from 'prom-client';
import { getOrCreateMetric } from './get-or-create-metric';

/** How one delivery of a budget alert to the webhook ended. */
export type BudgetAlertDeliveryOutcome = 'delivered' | 'failed' | 'gave_up';

/**
 * Tenant budget alerts:
 *
 * - `agentry_budget_threshold_crossings_total{tenant,threshold}` — thresholds reached, counted
 *   once per tenant, month and threshold across the fleet (by whoever announced the crossing).
 * - `agentry_budget_alert_deliveries_total{outcome}` — webhook deliveries: `delivered`, `failed`
 *   (each failed attempt) and `gave_up` (once per alert, when its attempts ran out).
 *
 * `tenant` is a tenant id and `threshold` a configured percentage, both bounded by the budgets
 * operators set.
 */
export class BudgetMetrics {
  readonly #crossings: Counter<'tenant' | 'threshold'>;
  readonly #deliveries: Counter<'outcome'>;

  constructor(registry: Registry) {
    this.#crossings = getOrCreateMetric(registry, Counter<'tenant' | 'threshold'>, {
      name: 'agentry_budget_threshold_crossings_total',
      help: 'Tenant budget thresholds reached, once per tenant, month and threshold.',
      labelNames: ['tenant', 'threshold'] as const,
    });
    this.#deliveries = getOrCreateMetric(registry, Counter<'outcome'>, {
      name: 'agentry_budget_alert_deliveries_total',
      help: 'Budget alert webhook deliveries: delivered, failed attempts, and alerts given up.',
      labelNames: ['outcome'] as const,
    });
  }

  /** Count one announced crossing of `thresholdPct` percent of `tenant`'s budget. Never throws. */
  countCrossing(tenant: string, thresholdPct: number): void {
    this.#crossings.inc({ tenant, threshold: String(thresholdPct) });
  }

  /** Count one delivery outcome. Never throws. */
  countDelivery(outcome: BudgetAlertDeliveryOutcome): void {
    this.#deliveries.inc({ outcome });
  }
}
