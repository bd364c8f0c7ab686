/**
 * The audit verb of each mutating route of Bull Board (`@bull-board/api` `appRoutes.api`, every
 * method but GET), by its path under the board. A test checks this table against Bull Board's
 * route list, so an upgrade that adds a route fails until it is named here.
 */
export const boardVerbs: Readonly<Record<string, string>> = {
  '/api/queues/pause': 'pause',
  '/api/queues/resume': 'resume',
  '/api/queues/:queueName/add': 'add',
  '/api/queues/:queueName/retry/:queueStatus': 'retry',
  '/api/queues/:queueName/promote': 'promote',
  '/api/queues/:queueName/clean/:queueStatus': 'clean',
  '/api/queues/:queueName/pause': 'pause',
  '/api/queues/:queueName/resume': 'resume',
  '/api/queues/:queueName/concurrency': 'concurrency',
  '/api/queues/:queueName/rate-limit': 'rate-limit',
  '/api/queues/:queueName/rate-limit/release': 'rate-limit-release',
  '/api/queues/:queueName/empty': 'empty',
  '/api/queues/:queueName/obliterate': 'obliterate',
  '/api/queues/:queueName/job-schedulers/:schedulerId': 'scheduler-update',
  '/api/queues/:queueName/job-schedulers/:schedulerId/remove': 'scheduler-remove',
  '/api/queues/:queueName/job-schedulers/:schedulerId/run': 'scheduler-run',
  '/api/queues/:queueName/:jobId/retry': 'retry',
  // Bull Board calls removing one job "clean"; the audit log says what it did.
  '/api/queues/:queueName/:jobId/clean': 'remove',
  '/api/queues/:queueName/:jobId/promote': 'promote',
  '/api/queues/:queueName/:jobId/update-data': 'update-data',
  '/api/queues/:queueName/:jobId/delay': 'delay',
  '/api/queues/:queueName/:jobId/priority': 'priority',
  '/api/queues/:queueName/:jobId/remove-unprocessed-children': 'remove-children',
  '/api/metrics/history/purge': 'history-purge',
};

/** What one board request did, as an audit entry names it (without actor and details). */
export interface BoardAction {
  /** `board.<verb>`, e.g. `board.retry`. */
  action: string;
  /** `job`, `job-scheduler` or `queue`. */
  targetType: string;
  /** `<queue>/<jobId>`, `<queue>/<schedulerId>`, `<queue>`, or `*` for every queue. */
  targetId: string;
}

/**
 * Name a mutating board request. `route` is its route pattern under the board (undefined when no
 * route matched: the verb is then the HTTP method). Pure; never throws.
 */
export function boardAction(
  route: string | undefined,
  method: string,
  params: Readonly<Record<string, unknown>>,
): BoardAction {
  const verb = (route !== undefined ? boardVerbs[route] : undefined) ?? method.toLowerCase();
  const queue = text(params.queueName);
  const jobId = text(params.jobId);
  const schedulerId = text(params.schedulerId);
  const [targetType, targetId] =
    queue === undefined
      ? ['queue', '*']
      : jobId !== undefined
        ? ['job', `${queue}/${jobId}`]
        : schedulerId !== undefined
          ? ['job-scheduler', `${queue}/${schedulerId}`]
          : ['queue', queue];
  return { action: `board.${verb}`, targetType, targetId: targetId.slice(0, 300) };
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;
