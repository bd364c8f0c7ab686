import { collectDefaultMetrics, Registry } from 'prom-client';

/** Options of {@link createRegistry}. */
export interface CreateRegistryOptions {
  /** Bound as the `component` label on every metric of the registry (`planner`, `executor`, …). */
  component?: string;
  /** Further constant labels for every metric (bounded values only: never ids). */
  labels?: Record<string, string>;
  /** Also collect prom-client's default process and Node.js metrics (`process_*`, `nodejs_*`). @default false */
  defaultMetrics?: boolean;
}

/**
 * A fresh prom-client `Registry` for one process (or one test). agentry never uses prom-client's
 * global registry: build one here in `container.ts` and hand it to the metric classes and to
 * `createHealthServer`. Default metrics are collected on scrape, so no timer is left running.
 */
export function createRegistry(options: CreateRegistryOptions = {}): Registry {
  const registry = new Registry();
  const labels = {
    ...options.labels,
    ...(options.component === undefined ? {} : { component: options.component }),
  };
  if (Object.keys(labels).length > 0) registry.setDefaultLabels(labels);
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry });
  return registry;
}
