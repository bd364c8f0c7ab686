import { createLogger } from '@agentry/observability';
import { installShutdown } from '@agentry/queue';
import { toError, type CommonConfig } from '@agentry/schema';

export interface ProcessApp {
  start(): Promise<void>;
  close(options: { deadlineMs: number }): Promise<void>;
}

/**
 * The body of every worker's `main.ts`: load config (an invalid environment prints every problem
 * and exits 1 before any connection), build the app, install SIGTERM/SIGINT draining under the
 * configured deadline, start. A failure to start exits 1 with the reason.
 */
export async function runProcess<C extends CommonConfig>(options: {
  component: string;
  loadConfig: (env: Record<string, string | undefined>) => C;
  create: (config: C) => Promise<ProcessApp>;
}): Promise<void> {
  const log = createLogger({
    component: options.component,
    level: process.env.AGENTRY_LOG_LEVEL || 'info',
  });
  let config: C;
  try {
    config = options.loadConfig(process.env);
  } catch (e) {
    log.fatal(toError(e).message);
    process.exit(1);
  }
  try {
    const app = await options.create(config);
    installShutdown(app, { deadlineMs: config.shutdownDeadlineMs, log });
    await app.start();
  } catch (e) {
    log.fatal({ err: toError(e) }, `${options.component} failed to start`);
    process.exit(1);
  }
}
