import { DrainMetrics, createHealthServer } from '@agentry/observability';
import type { FleetServices } from './fleet-services';

/** A worker process's app: what `main.ts`, `agentry dev` and tests start and close. */
export interface WorkerApp {
  start(): Promise<void>;
  /** Drain in-flight jobs (up to the deadline, then cancel them), then close everything. Safe twice. */
  close(options?: { deadlineMs?: number }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The part of a worker runtime an app's lifecycle drives. */
export interface DrainableWorker {
  start(): Promise<void>;
  ready(): Promise<void>;
  close(options: { deadlineMs: number }): Promise<void>;
}

/**
 * The lifecycle every worker app shares: a probe server (unless `health` is false: the host
 * process runs one), start in order, and on close report draining, drain the worker under the
 * deadline, then close the probe server and — when this app opened them — the services.
 */
export function workerApp(options: {
  services: FleetServices;
  ownsServices: boolean;
  worker: DrainableWorker;
  health: boolean;
  healthPort: number;
  shutdownDeadlineMs: number;
  /** After the worker started (timers, the "started" log line). */
  afterStart?: () => void;
  /** First thing on close, before the drain (stop timers). */
  beforeDrain?: () => void;
  /** After the drain, before the services close (what the app opened besides its worker). */
  afterDrain?: () => Promise<void>;
}): WorkerApp {
  const { services, worker } = options;
  const health = options.health
    ? createHealthServer({
        port: options.healthPort,
        registry: services.registry,
        log: services.log,
        checks: { ...services.readiness, worker: () => worker.ready() },
      })
    : undefined;
  const drainMetrics = new DrainMetrics(services.registry);
  let closing: Promise<void> | undefined;
  const close = (o: { deadlineMs?: number } = {}) =>
    (closing ??= (async () => {
      health?.setDraining();
      options.beforeDrain?.();
      const started = performance.now();
      await worker.close({ deadlineMs: o.deadlineMs ?? options.shutdownDeadlineMs });
      drainMetrics.observe(performance.now() - started);
      await options.afterDrain?.();
      await health?.close();
      if (options.ownsServices) await services.close();
    })());
  return {
    async start() {
      await health?.start();
      await worker.start();
      options.afterStart?.();
    },
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}
