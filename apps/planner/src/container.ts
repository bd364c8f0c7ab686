import { hostname } from 'node:os';
import {
  metricsObserver,
  openFleetServices,
  openLlmRuntime,
  requireSecrets,
  reconcile,
  workerApp,
  type FleetServices,
  type ProcessLogging,
  type WorkerApp,
} from '@agentry/engine';
import { builtinToolCatalog, builtinToolNames } from '@agentry/executor';
import { keyRefsOf } from '@agentry/llm';
import { createWorkerRuntime } from '@agentry/queue';
import { queueNames, runIdForPlanJob, toError } from '@agentry/schema';
import type { PlannerConfig } from './config';
import { handlePlanJob, type PlanJobDeps } from './handle-plan-job';
import { builtinTemplates, createTemplatePlanner, loadTemplateFile } from './templates';

/** The planner: drains in-flight plan jobs on close (up to the deadline, then cancels them). */
export type PlannerApp = WorkerApp;

/**
 * Wire the planner: the one place that builds its dependencies. Pass `services` to share a
 * database and producer with other apps in one process (`agentry dev`); `health: false` skips
 * the probe server (the host process runs one). API keys are resolved by `services.secrets`.
 */
export async function createPlanner(
  config: PlannerConfig,
  options: {
    services?: FleetServices;
    /** The process's logger and scrubber (from `runProcess`) for services opened here. */
    logging?: ProcessLogging;
    health?: boolean;
  } = {},
): Promise<PlannerApp> {
  const services =
    options.services ??
    (await openFleetServices(config, { component: 'planner', ...options.logging }));
  const ownsServices = options.services === undefined;
  const { log, registry, repos } = services;
  try {
    const custom = config.templatesFile ? await loadTemplateFile(config.templatesFile) : [];
    await requireSecrets(services.secrets, keyRefsOf(config.llm));
    const templates = createTemplatePlanner([...custom, ...builtinTemplates]);
    const llm =
      config.llm.providers.length === 0
        ? undefined
        : await openLlmRuntime(config.llm, {
            registry,
            keys: services.secrets,
          });
    const deps: PlanJobDeps = {
      ...services.engine,
      chain: {
        templates,
        ...(llm && {
          models: {
            providers: llm.providers,
            toolCatalog: builtinToolCatalog,
            prices: llm.prices,
            deadlineMs: config.llmDeadlineMs,
          },
        }),
      },
      knownTools: builtinToolNames,
      ...(llm && { llm }),
    };
    const runtime = createWorkerRuntime({
      queue: queueNames.plan,
      connection: services.redis,
      prefix: services.prefix,
      concurrency: config.concurrency,
      workerName: `planner@${hostname()}:${process.pid}`,
      log,
      observer: metricsObserver(registry),
      deadLetters: repos.deadLetters,
      scrubError: services.secrets.scrubber.scrubDeep,
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

    return workerApp({
      services,
      ownsServices,
      worker: runtime,
      health: options.health !== false,
      healthPort: config.healthPort,
      shutdownDeadlineMs: config.shutdownDeadlineMs,
      afterStart: () => {
        if (config.reconcileIntervalMs > 0) {
          reconcileTimer = setInterval(() => void tick(), config.reconcileIntervalMs);
          reconcileTimer.unref();
        }
        log.info(
          {
            queue: queueNames.plan,
            concurrency: config.concurrency,
            models: llm?.providers.map((p) => `${p.name}:${p.model}`) ?? [],
          },
          'planner started',
        );
      },
      beforeDrain: () => clearInterval(reconcileTimer),
    });
  } catch (e) {
    if (ownsServices) await services.close();
    throw e;
  }
}
