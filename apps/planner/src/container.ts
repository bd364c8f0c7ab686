import { hostname } from 'node:os';
import {
  metricsObserver,
  openFleetServices,
  openLlmRuntime,
  requireSecrets,
  cachedDurations,
  expireApprovals,
  openBudgetAlerts,
  reconcile,
  traceJob,
  workerApp,
  type FleetServices,
  type ProcessLogging,
  type WorkerApp,
} from '@agentry/engine';
import { planningToolsFor, planningToolsOf, type ToolDefinition } from '@agentry/executor';
import { keyRefsOf, loadPriceTable } from '@agentry/llm';
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
    /**
     * The tools the executors offer — the same list as `createExecutor({ tools })`: plans may
     * name only these, the model is shown them, reviews rate them.
     * @default the built-in tools and those of `AGENTRY_TOOLS_MODULE`
     */
    tools?: readonly ToolDefinition[];
  } = {},
): Promise<PlannerApp> {
  const services =
    options.services ??
    (await openFleetServices(config, { component: 'planner', ...options.logging }));
  const ownsServices = options.services === undefined;
  const { log, registry, repos } = services;
  try {
    const tools = options.tools
      ? planningToolsOf(options.tools)
      : await planningToolsFor(config.toolsModule);
    const custom = config.templatesFile ? await loadTemplateFile(config.templatesFile) : [];
    await requireSecrets(services.secrets, {
      ...keyRefsOf(config.llm),
      AGENTRY_BUDGET_WEBHOOK_URL_REF: config.budgetWebhookUrlRef,
    });
    // Tenant budget alerts: announced after planning costs, retried on the reconciler's tick.
    const budgetAlerts = openBudgetAlerts(services);
    const templates = createTemplatePlanner([...custom, ...builtinTemplates]);
    const llm =
      config.llm.providers.length === 0
        ? undefined
        : await openLlmRuntime(config.llm, {
            registry,
            keys: services.secrets,
            tracing: services.tracing,
          });
    const deps: PlanJobDeps = {
      ...services.engine,
      chain: {
        templates,
        ...(llm && {
          models: {
            providers: llm.providers,
            toolCatalog: tools.catalog,
            prices: llm.prices,
            maxOutputTokens: config.llm.maxOutputTokens,
            deadlineMs: config.llmDeadlineMs,
          },
        }),
      },
      knownTools: tools.names,
      contextTokens: config.contextTokens,
      afterSpend: () => budgetAlerts.kick(),
      review: {
        tools: tools.profile,
        durations: cachedDurations(
          () => repos.steps.durations(new Date(Date.now() - 7 * 86_400_000)),
          60_000,
          (e) => log.warn({ err: toError(e) }, 'tool durations unavailable; reviewing without'),
        ),
        pricing: {
          prices: llm?.prices ?? (await loadPriceTable(config.llm.pricesFile)),
          model: config.llm.providers[0]?.model,
        },
        policy: config.approval,
      },
      ...(llm && { llm }),
    };
    const runtime = createWorkerRuntime({
      queue: queueNames.plan,
      connection: services.redis,
      prefix: services.prefix,
      concurrency: config.concurrency,
      lockDurationMs: config.lockDurationMs,
      stalledIntervalMs: config.lockDurationMs,
      maxStalledCount: config.maxStalledCount,
      workerName: `planner@${hostname()}:${process.pid}`,
      log,
      observer: metricsObserver(registry),
      deadLetters: repos.deadLetters,
      scrubError: services.secrets.scrubber.scrubDeep,
      handlers: {
        plan: traceJob(services.tracing, 'plan', (payload, ctx) =>
          handlePlanJob(deps, payload, ctx),
        ),
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

    // Retention: conversations idle longer than configured are deleted (their runs are kept).
    const purgeConversations = async () => {
      if (config.conversationRetentionDays === 0) return;
      const olderThan = new Date(Date.now() - config.conversationRetentionDays * 86_400_000);
      let purged = 0;
      for (let batch = 1000; batch === 1000 && purged < 10_000;) {
        batch = await repos.conversations.purgeExpired({ olderThan, limit: 1000 });
        purged += batch;
      }
      if (purged > 0) log.info({ purged, olderThan }, 'expired conversations deleted');
    };

    let reconcileTimer: NodeJS.Timeout | undefined;
    let reconciling = false;
    const tick = async () => {
      if (reconciling) return;
      reconciling = true;
      try {
        await reconcile(services.engine, { olderThanMs: config.reconcileAfterMs });
        await expireApprovals(services.engine);
        await purgeConversations();
        await budgetAlerts.announce();
        await budgetAlerts.deliverPending();
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
      afterDrain: () => budgetAlerts.settled(),
    });
  } catch (e) {
    if (ownsServices) await services.close();
    throw e;
  }
}
