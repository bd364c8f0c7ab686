import { createLogger, type Logger } from '@agentry/observability';
import { installShutdown } from '@agentry/queue';
import { toError, type CommonConfig } from '@agentry/schema';
import { createScrubber, type Scrubber } from '@agentry/secrets';

/** The process's one logger and the scrubber it writes through; pass both to the app. */
export interface ProcessLogging {
  log: Logger;
  scrubber: Scrubber;
}

export interface ProcessApp {
  start(): Promise<void>;
  close(options: { deadlineMs: number }): Promise<void>;
}

/**
 * The body of every worker's `main.ts`: load config (an invalid environment prints every problem
 * and exits 1 before any connection), build the app with the process's logger and scrubber,
 * install SIGTERM/SIGINT draining under the configured deadline, start. A failure to start exits
 * 1 with the reason.
 */
export async function runProcess<C extends CommonConfig>(options: {
  component: string;
  loadConfig: (env: Record<string, string | undefined>) => C;
  create: (config: C, logging: ProcessLogging) => Promise<ProcessApp>;
}): Promise<void> {
  // One scrubber for the process: the secret store registers every value it resolves with it,
  // so no line of this logger — start-up failures included — carries one.
  const scrubber = createScrubber();
  const log = createLogger({
    component: options.component,
    level: process.env.AGENTRY_LOG_LEVEL || 'info',
    scrub: scrubber.scrub,
  });
  let config: C;
  try {
    config = options.loadConfig(process.env);
  } catch (e) {
    log.fatal(toError(e).message);
    process.exit(1);
  }
  try {
    const app = await options.create(config, { log, scrubber });
    installShutdown(app, { deadlineMs: config.shutdownDeadlineMs, log });
    await app.start();
  } catch (e) {
    log.fatal({ err: toError(e) }, `${options.component} failed to start`);
    process.exit(1);
  }
}
