import { hostname } from 'node:os';
import { metricsObserver, openFleetServices, reconcile, type FleetServices } from '@agentry/engine';
import { builtinToolNames } from '@agentry/executor';
import { createHealthServer } from '@agentry/observability';
import { createWorkerRuntime } from '@agentry/queue';
import { queueNames, runIdForPlanJob, toError } from '@agentry/schema';
import type { PlannerConfig } from './config';
import { handlePlanJob, type PlanJobDeps } from './handle-plan-job';
import { builtinTemplates, createTemplatePlanner, loadTemplateFile } from './templates';

export interface PlannerApp {
  start(): Promise<void>;
  /** Drain in-flight plan jobs (up to the deadline), then close everything. Safe twice. */
  close(options?: { deadlineMs?: number }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Wire the planner: the one place that builds its dependencies. Pass `services` to share a
 * database and producer with other apps in one process (`agentry dev`); `health: false` skips
 * the probe server (the host process runs one).
 */
export async function createPlanner(
  config: PlannerConfig,
  options: { services?: FleetServices; health?: boolean } = {},
): Promise<PlannerApp> {
  const services = options.services ?? (await openFleetServices(config, { component: 'planner' }));
  const ownsServices = options.services === undefined;
  const { log, registry, repos } = services;
  try {
    const custom = config.templatesFile ? await loadTemplateFile(config.templatesFile) : [];
    const deps: PlanJobDeps = {
      ...services.engine,
      planner: createTemplatePlanner([...custom, ...builtinTemplates]),
      knownTools: builtinToolNames,
    };
    const runtime = createWorkerRuntime({
      queue: queueNames.plan,
      connection: { url: config.redisUrl },
      prefix: services.prefix,
      concurrency: config.concurrency,
      workerName: `planner@${hostname()}:${process.pid}`,
      log,
      observer: metricsObserver(registry),
      deadLetters: repos.deadLetters,
      handlers: {
        plan: (payload, ctx) => handlePlanJob(deps, payload, ctx),
      },
      hooks: {
        async onFailedForGood(failure) {
          if (failure.kind !== 'plan' || failure.payload === undefined) return;
          const runId = runIdForPlanJob(failure.jobId, failure.payload.runId);
          await repos.runs.transition(runId, ['pending'], 'failed', {
            error: { code: failure.errorCode, message: failure.error.message, retryable: false },
          });
        },
      },
    });
    const health =
      options.health === false
        ? undefined
        : createHealthServer({
            port: config.healthPort,
            registry,
            log,
            checks: { ...services.readiness, worker: () => runtime.ready() },
          });

    let reconcileTimer: NodeJS.Timeout | undefined;
    let reconciling = false;
    const tick = async () => {
      if (reconciling) return;
      reconciling = true;
      try {
        await reconcile(services.engine, { olderThanMs: config.reconcileAfterMs });
      } catch (e) {
        log.warn({ err: toError(e) }, 'reconciler pass failed; will try again');
      } finally {
        reconciling = false;
      }
    };

    let closing: Promise<void> | undefined;
    const close = (o: { deadlineMs?: number } = {}) =>
      (closing ??= (async () => {
        const deadlineMs = o.deadlineMs ?? config.shutdownDeadlineMs;
        health?.setDraining();
        clearInterval(reconcileTimer);
        await runtime.close({ deadlineMs });
        await health?.close();
        if (ownsServices) await services.close();
      })());

    return {
      async start() {
        await health?.start();
        await runtime.start();
        if (config.reconcileIntervalMs > 0) {
          reconcileTimer = setInterval(() => void tick(), config.reconcileIntervalMs);
          reconcileTimer.unref();
        }
        log.info({ queue: queueNames.plan, concurrency: config.concurrency }, 'planner started');
      },
      close,
      [Symbol.asyncDispose]: () => close(),
    };
  } catch (e) {
    if (ownsServices) await services.close();
    throw e;
  }
}
