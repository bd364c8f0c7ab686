import type { BudgetAlertRow, Repositories } from '@agentry/db';
import type { BudgetMetrics } from '@agentry/observability';
import { toError } from '@agentry/schema';
import { postBudgetAlert, type BudgetAlertPost } from './post-budget-alert';

/** What budget alerts log to (a pino logger fits). */
export interface BudgetAlertLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Where alerts are posted. */
export interface BudgetAlertWebhook {
  /**
   * The webhook URL, resolved for every delivery so a rotated one is used: the secret store's
   * `get` of `AGENTRY_BUDGET_WEBHOOK_URL_REF`. It is a credential and is never logged (only its
   * origin is).
   */
  url: () => Promise<string>;
  /** Deadline of one POST, answer included. @default 5000 */
  timeoutMs?: number;
}

/** Options of {@link createBudgetAlerts}. */
export interface BudgetAlertsOptions {
  repos: Pick<Repositories, 'budgets'>;
  log: BudgetAlertLogger;
  metrics?: BudgetMetrics;
  /** Unset: alerts are only logged and counted. */
  webhook?: BudgetAlertWebhook;
  /** Deliveries tried per alert before it is given up. @default 10 */
  maxDeliveryAttempts?: number;
  /** Alerts claimed by one `announce`, or retried by one `deliverPending`. @default 100 */
  batchSize?: number;
  /** @default () => new Date() */
  clock?: () => Date;
}

/** Announces tenant budget threshold crossings and delivers them to the webhook. */
export interface BudgetAlerts {
  /**
   * Claim the crossings nobody has announced yet — each is claimed by exactly one caller across
   * the fleet — log each once (warn) and count it, then post them to the webhook. Resolves to the
   * number announced. Never throws: a failure is logged and the work is left for the next call.
   */
  announce(): Promise<number>;
  /**
   * Post again the announced alerts the webhook has not taken, each at most `maxDeliveryAttempts`
   * times in all; the one whose last attempt fails is logged at error, once. Alerts announced
   * within the last `timeoutMs` + 1 s are left alone (their first POST may still be in flight).
   * Resolves to the number delivered. Never throws.
   */
  deliverPending(): Promise<number>;
}

/**
 * Build the {@link BudgetAlerts}. Call `announce()` and then `deliverPending()` periodically
 * from any number of processes: announcing is exactly once, delivery at least once (receivers
 * deduplicate on the `x-agentry-alert-id` header). The interval between calls is the delay
 * between delivery attempts. See docs/budgets.md.
 */
export function createBudgetAlerts(options: BudgetAlertsOptions): BudgetAlerts {
  const { repos, log, metrics, webhook } = options;
  const maxAttempts = options.maxDeliveryAttempts ?? 10;
  const batchSize = options.batchSize ?? 100;
  const clock = options.clock ?? (() => new Date());
  const timeoutMs = webhook?.timeoutMs ?? 5_000;

  /** Record how a POST ended; the database failing here leaves the alert to be retried. */
  async function settle(alert: BudgetAlertRow, post: BudgetAlertPost): Promise<void> {
    if (post.ok) {
      metrics?.countDelivery('delivered');
      await repos.budgets.markDelivered(alert.id);
      return;
    }
    const attempts = await repos.budgets.markDeliveryFailed(alert.id, post.error);
    metrics?.countDelivery('failed');
    const fields = { ...identify(alert), webhook: post.webhook, error: post.error, attempts };
    if (attempts < maxAttempts) {
      log.warn({ ...fields, maxAttempts }, 'budget alert delivery failed; will retry');
    } else if (attempts === maxAttempts) {
      metrics?.countDelivery('gave_up');
      log.error(fields, 'budget alert delivery gave up');
    }
  }

  async function deliver(hook: BudgetAlertWebhook, alerts: BudgetAlertRow[]): Promise<number> {
    let delivered = 0;
    for (const alert of alerts) {
      const post = await postBudgetAlert(hook.url, alert, timeoutMs);
      if (post.ok) delivered += 1;
      await settle(alert, post).catch((e: unknown) =>
        log.warn(
          { ...identify(alert), err: toError(e).message },
          'budget alert delivery not recorded',
        ),
      );
    }
    return delivered;
  }

  return {
    async announce() {
      let claimed: BudgetAlertRow[];
      try {
        claimed = await repos.budgets.claimUnannounced(batchSize);
      } catch (e) {
        log.warn({ err: toError(e).message }, 'budget alerts could not be claimed; next time');
        return 0;
      }
      for (const alert of claimed) {
        log.warn(
          { ...identify(alert), spentUsd: alert.spentUsd, budgetUsd: alert.budgetUsd },
          'tenant budget threshold crossed',
        );
        metrics?.countCrossing(alert.tenantId, alert.thresholdPct);
      }
      if (webhook) await deliver(webhook, claimed);
      return claimed.length;
    },

    async deliverPending() {
      if (!webhook) return 0;
      try {
        const pending = await repos.budgets.undelivered({
          maxAttempts,
          announcedBefore: new Date(clock().getTime() - timeoutMs - 1_000),
          limit: batchSize,
        });
        return await deliver(webhook, pending);
      } catch (e) {
        log.warn({ err: toError(e).message }, 'budget alerts could not be retried; next time');
        return 0;
      }
    },
  };
}

/** The fields that name an alert in every log line about it. */
const identify = (alert: BudgetAlertRow) => ({
  alertId: alert.id,
  tenantId: alert.tenantId,
  period: alert.period,
  thresholdPct: alert.thresholdPct,
});
