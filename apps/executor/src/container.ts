import { hostname } from 'node:os';
import {
  metricsObserver,
  openFleetServices,
  enqueueCompensation,
  openBudgetAlerts,
  openLlmRuntime,
  requireSecrets,
  traceJob,
  workerApp,
  type FleetServices,
  type ProcessLogging,
  type WorkerApp,
} from '@agentry/engine';
import { keyRefsOf } from '@agentry/llm';
import { StepMetrics } from '@agentry/observability';
import {
  createWorkerRuntime,
  duplicateConnection,
  listenForCancels,
  type RunCancellation,
} from '@agentry/queue';
import { queueNames } from '@agentry/schema';
import type { ExecutorConfig } from './config';
import { handleCompensateJob } from './handle-compensate-job';
import { handleStepJob, type StepJobDeps } from './handle-step-job';
import { builtinTools, createHmacSigner, createToolRegistry, type ToolDefinition } from './tools';
import { loadToolsModule } from './tools-module';

/** The executor: drains in-flight steps on close (up to the deadline, then cancels them). */
export type ExecutorApp = WorkerApp;

/**
 * Wire the executor: the one place that builds its dependencies. Pass `services` to share a
 * database and producer with other apps in one process (`agentry dev`). API keys are resolved by
 * `services.secrets`.
 */
export async function createExecutor(
  config: ExecutorConfig,
  options: {
    services?: FleetServices;
    /** The process's logger and scrubber (from `runProcess`) for services opened here. */
    logging?: ProcessLogging;
    health?: boolean;
    /**
     * The tools this executor offers, e.g. the built-ins plus an application's own. Give the
     * planner and the API the same list (`createPlanner` / `createApi` option `tools`): plans are
     * validated against theirs.
     * @default builtinTools({ http: config.http }) and the tools of `AGENTRY_TOOLS_MODULE`
     */
    tools?: readonly ToolDefinition[];
  } = {},
): Promise<ExecutorApp> {
  const services =
    options.services ??
    (await openFleetServices(config, { component: 'executor', ...options.logging }));
  const ownsServices = options.services === undefined;
  const { log, registry, repos } = services;
  let cancellation: RunCancellation | undefined;
  try {
    const stepMetrics = new StepMetrics(registry);
    const llm = await openLlmRuntime(config.llm, {
      registry,
      keys: services.secrets,
      tracing: services.tracing,
    });
    const signingKeyRef = config.webhookSigningKeyRef;
    // Tenant budget alerts: announced (logged, counted, posted) after each recorded cost.
    const budgetAlerts = openBudgetAlerts(services);
    const afterSpend = (): void => budgetAlerts.kick();
    await requireSecrets(services.secrets, {
      ...keyRefsOf(config.llm),
      AGENTRY_WEBHOOK_SIGNING_KEY_REF: signingKeyRef,
      AGENTRY_BUDGET_WEBHOOK_URL_REF: config.budgetWebhookUrlRef,
    });
    // The application's own tools, unless the caller gave the whole list.
    const ownTools =
      options.tools === undefined && config.toolsModule
        ? await loadToolsModule(config.toolsModule)
        : [];
    const tools = options.tools ?? [
      ...builtinTools({
        http: config.http,
        ...(signingKeyRef === undefined
          ? {}
          : { sign: createHmacSigner(() => services.secrets.get(signingKeyRef)) }),
        onBreakerStateChange: (origin, from, to) => {
          const fields = { origin, from, to };
          if (to === 'OPEN') log.warn(fields, 'circuit to this origin opened: calls fail fast');
          else log.info(fields, `circuit to this origin is ${to.toLowerCase()}`);
        },
        llm: {
          providers: llm.providers,
          prices: llm.prices,
          maxOutputTokens: config.llm.maxOutputTokens,
          observeCall: llm.observeCall,
          record: async (calls, { runId, stepId }) => {
            await repos.llmCalls.record(
              calls.map((call) => ({ ...call, runId, stepId, purpose: 'generate' as const })),
            );
            if (calls.some((c) => c.costUsd > 0)) afterSpend();
          },
        },
      }),
      ...ownTools,
    ];
    const listener = listenForCancels(
      duplicateConnection(services.producerConnection, 'executor-cancels'),
      services.prefix,
      log,
    );
    cancellation = listener;
    const deps: StepJobDeps = {
      ...services.engine,
      cancellation: listener,
      costs: {
        prices: llm.prices,
        onBudgetExceeded: config.approval.onBudgetExceeded,
        approvalTtlMs: config.approval.ttlMs,
        afterSpend,
      },
      tools: createToolRegistry(tools, {
        scrubError: services.secrets.scrubber.scrubDeep,
      }),
      observer: {
        stepFinished: (e) => {
          if (e.outcome !== 'retried')
            stepMetrics.observeStep({
              tool: e.tool,
              outcome: e.outcome,
              durationMs: e.durationMs,
              attempt: e.attempt,
            });
        },
      },
    };
    const runtime = createWorkerRuntime({
      queue: queueNames.step,
      connection: services.redis,
      prefix: services.prefix,
      concurrency: config.concurrency,
      workerName: `executor@${hostname()}:${process.pid}`,
      lockDurationMs: config.lockDurationMs,
      // Look for stalled jobs as often as a lock lasts, so a dead worker's step moves on within
      // about two lock periods instead of BullMQ's fixed 30 s check.
      stalledIntervalMs: config.lockDurationMs,
      maxStalledCount: config.maxStalledCount,
      log,
      observer: metricsObserver(registry),
      deadLetters: repos.deadLetters,
      scrubError: services.secrets.scrubber.scrubDeep,
      handlers: {
        step: traceJob(services.tracing, 'step', (payload, ctx) =>
          handleStepJob(deps, payload, ctx),
        ),
        compensate: traceJob(services.tracing, 'compensate', (payload, ctx) =>
          handleCompensateJob(deps, payload, ctx),
        ),
      },
      hooks: {
        // A step that failed for good without its handler recording it (its worker kept dying):
        // fail the run here so it does not hang in `running`.
        async onFailedForGood(failure) {
          if (failure.kind !== 'step' || failure.payload === undefined) return;
          const { runId, stepId, correlationId } = failure.payload;
          const error = {
            code: failure.errorCode,
            message: failure.error.message,
            retryable: false,
          };
          const { runFailed } = await repos.steps.failForGood(runId, stepId, error);
          if (runFailed)
            await enqueueCompensation(
              deps,
              { id: runId, correlationId, tenantId: failure.payload.tenantId },
              `step ${stepId}: ${error.message}`,
            );
        },
      },
    });
    return workerApp({
      services,
      ownsServices,
      worker: runtime,
      health: options.health !== false,
      healthPort: config.healthPort,
      shutdownDeadlineMs: config.shutdownDeadlineMs,
      afterStart: () =>
        log.info(
          { concurrency: config.concurrency, tools: [...deps.tools.names()] },
          'executor started',
        ),
      afterDrain: async () => {
        await listener.close();
        await budgetAlerts.settled();
      },
    });
  } catch (e) {
    await cancellation?.close();
    if (ownsServices) await services.close();
    throw e;
  }
}
