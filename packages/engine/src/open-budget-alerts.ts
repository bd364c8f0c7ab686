import { BudgetMetrics } from '@agentry/observability';
import { createBudgetAlerts, type BudgetAlerts } from './budget-alerts';
import type { FleetServices } from './fleet-services';

/** A worker's budget alerts: {@link BudgetAlerts} plus a coalescing trigger for after a cost. */
export interface WorkerBudgetAlerts extends BudgetAlerts {
  /**
   * Announce soon, without waiting: called after each recorded cost. Calls while an announce
   * runs make one more announce after it, not one each.
   */
  kick(): void;
  /** Resolves when no announce is running (for a drain). */
  settled(): Promise<void>;
}

/**
 * The tenant budget alerts of a worker process: logged and counted on the process's registry,
 * posted to `AGENTRY_BUDGET_WEBHOOK_URL_REF` (resolved through the secret store on each post, so
 * a rotated URL is followed) when it is set.
 */
export function openBudgetAlerts(services: FleetServices): WorkerBudgetAlerts {
  const ref = services.config.budgetWebhookUrlRef;
  const alerts = createBudgetAlerts({
    repos: services.repos,
    log: services.log,
    metrics: new BudgetMetrics(services.registry),
    ...(ref === undefined ? {} : { webhook: { url: () => services.secrets.get(ref) } }),
  });
  let running: Promise<void> | undefined;
  let again = false;
  const kick = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = alerts
      .announce()
      .then(() => undefined)
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          kick();
        }
      });
  };
  return {
    ...alerts,
    kick,
    settled: async () => {
      while (running) await running;
    },
  };
}
