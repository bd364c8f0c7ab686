import type { BudgetAlertRow } from '@agentry/db';
import { toError } from '@agentry/schema';

/** The JSON body a budget alert webhook receives. */
export interface BudgetAlertPayload {
  type: 'budget.threshold';
  /** Also sent as the `x-agentry-alert-id` header: the receiver's idempotency key. */
  alertId: string;
  tenantId: string;
  /** The month (UTC) as its first day, e.g. `2025-03-01`. */
  period: string;
  thresholdPct: number;
  budgetUsd: number;
  spentUsd: number;
  /** ISO 8601. */
  crossedAt: string;
}

/** How one POST ended. `webhook` is the URL's origin: the only part of it fit for a log. */
export type BudgetAlertPost =
  { ok: true; webhook: string } | { ok: false; webhook: string; error: string };

/** The webhook body of `alert`. */
export function budgetAlertPayload(alert: BudgetAlertRow): BudgetAlertPayload {
  return {
    type: 'budget.threshold',
    alertId: alert.id,
    tenantId: alert.tenantId,
    period: alert.period,
    thresholdPct: alert.thresholdPct,
    budgetUsd: alert.budgetUsd,
    spentUsd: alert.spentUsd,
    crossedAt: alert.crossedAt.toISOString(),
  };
}

/**
 * POST `alert` to the URL `resolveUrl` gives, within `timeoutMs` (body included). A 2xx answer is
 * a delivery; anything else (a redirect too: it is not followed, so the alert never goes to a host
 * nobody configured) is a failure with a reason. Never throws, and the reason never contains the
 * URL, whose path is a credential for Slack and Teams webhooks.
 */
export async function postBudgetAlert(
  resolveUrl: () => Promise<string>,
  alert: BudgetAlertRow,
  timeoutMs: number,
): Promise<BudgetAlertPost> {
  let url: string | undefined;
  try {
    url = await resolveUrl();
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-agentry-alert-id': alert.id },
      body: JSON.stringify(budgetAlertPayload(alert)),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    const webhook = originOf(url);
    return response.ok
      ? { ok: true, webhook }
      : { ok: false, webhook, error: `HTTP ${response.status}` };
  } catch (e) {
    const webhook = url === undefined ? 'unresolved' : originOf(url);
    const reason = describe(e, timeoutMs);
    return {
      ok: false,
      webhook,
      error: url === undefined ? reason : reason.replaceAll(url, webhook),
    };
  }
}

/** `scheme://host:port` of `url`, without credentials, path or query. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'invalid URL';
  }
}

/** Why a request failed, with the low-level cause (fetch's own message is only "fetch failed"). */
function describe(e: unknown, timeoutMs: number): string {
  const error = toError(e);
  if (error.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = error.cause === undefined ? '' : `: ${toError(error.cause).message}`;
  return `${error.message}${cause}`;
}
