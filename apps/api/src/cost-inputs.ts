import { loadPriceTable } from '@agentry/llm';
import type { Producer } from '@agentry/queue';
import { queueNames } from '@agentry/schema';
import type { ApiDeps } from './api-deps';
import type { ApiConfig } from './config';

/**
 * The cost report's inputs besides the database: the price table, the unit prices and a count
 * of the workers connected to the plan and step queues. Throws `AppError('VALIDATION')` for an unreadable price table, at start-up.
 */
export async function loadCostInputs(
  config: ApiConfig['costs'],
  producer: Pick<Producer, 'queue'>,
): Promise<NonNullable<ApiDeps['costs']>> {
  return {
    prices: await loadPriceTable(config.pricesFile),
    unitPrices: config.unitPrices,
    retryWasteThresholdUsd: config.retryWasteThresholdUsd,
    async workers() {
      const queues = [queueNames.plan, queueNames.step].map((name) => producer.queue(name));
      const counts = await Promise.all(queues.map((q) => q.getWorkersCount()));
      return counts.reduce((sum, n) => sum + n, 0);
    },
  };
}
