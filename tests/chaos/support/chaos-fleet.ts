import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FleetProcess } from '../../support/fleet-process';
import { TestFleet } from '../../support/fleet';
import { writeChaosTemplates, type ChaosTemplateOptions } from './chaos-templates';
import { startEffectSink, type EffectSink } from './effect-sink';

/** The secret values the suite hides behind references and then looks for everywhere. */
export interface ChaosSecrets {
  /** `AGENTRY_WEBHOOK_SIGNING_KEY_REF=env://CHAOS_SIGNING_KEY` (executor). */
  signingKey: string;
  /** `AGENTRY_API_TOKEN=env://CHAOS_API_TOKEN` (API). */
  apiToken: string;
}

export interface ChaosFleetOptions extends Omit<ChaosTemplateOptions, 'sinkUrl'> {
  /** `AGENTRY_EXECUTOR_LOCK_MS`: how soon a dead executor's steps move on. @default 2000 */
  lockMs?: number;
  /** Extra environment for every process. */
  env?: Record<string, string>;
}

/** The tenant every chaos intent is submitted as. */
export const chaosTenant = 'chaos';

/**
 * A {@link TestFleet} set up for fault injection: an {@link EffectSink} the steps call, the chaos
 * templates, secrets behind `env://` references, a short executor lock, the reconciler on, and
 * executors built by `chaos-executor.ts`. Planner and API run their real `main.ts`.
 */
export class ChaosFleet {
  /** How executors are started: `chaos-executor.ts` through tsx. */
  static readonly executorEntry = { script: join(import.meta.dirname, 'chaos-executor.ts') };

  private constructor(
    readonly fleet: TestFleet,
    readonly sink: EffectSink,
    readonly secrets: ChaosSecrets,
    private readonly templatesFile: string,
  ) {}

  static async create(options: ChaosFleetOptions): Promise<ChaosFleet> {
    const secrets: ChaosSecrets = {
      signingKey: `chaos-sk-${randomBytes(16).toString('hex')}`,
      apiToken: `chaos-tok-${randomBytes(16).toString('hex')}`,
    };
    const sink = await startEffectSink({ signingKey: secrets.signingKey });
    const templatesFile = await writeChaosTemplates({ ...options, sinkUrl: sink.url });
    const fleet = await TestFleet.create({
      AGENTRY_PLANNER_TEMPLATES_FILE: templatesFile,
      AGENTRY_HTTP_ALLOW_PRIVATE: 'true',
      AGENTRY_EXECUTOR_LOCK_MS: String(options.lockMs ?? 2_000),
      // A killed planner's plan jobs come back within seconds, not the default 30-60 s.
      AGENTRY_PLANNER_LOCK_MS: '5000',
      AGENTRY_EXECUTOR_CONCURRENCY: '8',
      AGENTRY_RECONCILE_INTERVAL_MS: '1000',
      AGENTRY_RECONCILE_AFTER_MS: '5000',
      AGENTRY_WEBHOOK_SIGNING_KEY_REF: 'env://CHAOS_SIGNING_KEY',
      CHAOS_SIGNING_KEY: secrets.signingKey,
      AGENTRY_API_TOKEN: 'env://CHAOS_API_TOKEN',
      CHAOS_API_TOKEN: secrets.apiToken,
      ...options.env,
    });
    return new ChaosFleet(fleet, sink, secrets, templatesFile);
  }

  get processes(): readonly FleetProcess[] {
    return this.fleet.processes;
  }

  /** Live processes of one app, oldest first. */
  live(app: FleetProcess['app']): FleetProcess[] {
    return this.fleet.processes.filter((p) => p.app === app && p.running);
  }

  async startPlanner(env: Record<string, string> = {}): Promise<FleetProcess> {
    const p = this.fleet.start('planner', env);
    await p.waitForLog((l) => l.msg === 'planner started', 30_000);
    return p;
  }

  async startExecutor(env: Record<string, string> = {}): Promise<FleetProcess> {
    const p = this.fleet.start('executor', env, ChaosFleet.executorEntry);
    await p.waitForLog((l) => l.msg === 'executor started', 30_000);
    return p;
  }

  async startApi(): Promise<FleetProcess> {
    const p = this.fleet.start('api');
    const listening = await p.waitForLog((l) => l.msg === 'api listening', 30_000);
    this.fleet.apiUrl = `http://127.0.0.1:${String(listening.port)}`;
    return p;
  }

  /** The usual fleet, started at once: the API, one planner and `executors` executors. */
  async startFleet(executors = 2): Promise<void> {
    await Promise.all([
      this.startApi(),
      this.startPlanner(),
      ...Array.from({ length: executors }, () => this.startExecutor()),
    ]);
  }

  /** The worker name an executor's requests carry (`x-chaos-worker`). */
  static workerOf(p: FleetProcess): string {
    return `executor-${String(p.pid)}`;
  }

  /** A call to the fleet's API with its bearer token. */
  http<T = Record<string, unknown>>(method: string, path: string, body?: unknown) {
    return this.fleet.http<T>(method, path, body, {
      authorization: `Bearer ${this.secrets.apiToken}`,
    });
  }

  /** Stop every process (SIGKILL after a short grace: the scenario is over), then clean up. */
  async close(): Promise<void> {
    await Promise.all(this.fleet.processes.map((p) => p.stop(5_000)));
    await this.fleet.close();
    await this.sink.close();
    await rm(dirname(this.templatesFile), { recursive: true, force: true });
  }
}
