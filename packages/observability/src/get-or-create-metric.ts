import type { Metric, Registry } from 'prom-client';

/**
 * The metric `config.name` of `registry`, created (and registered there only) on first use. Two
 * components that build the same metrics class on one registry — the queue runtime and the app,
 * say — then share the series instead of failing with "already registered".
 * Throws a TypeError when the name is taken by a metric of another type. Internal helper.
 *
 * @example getOrCreateMetric(registry, Counter<'queue'>, { name, help, labelNames: ['queue'] })
 */
export function getOrCreateMetric<M extends Metric, P extends { name: string }>(
  registry: Registry,
  Kind: new (config: P) => M,
  config: P,
): M {
  const existing = registry.getSingleMetric(config.name);
  if (existing !== undefined) {
    if (!(existing instanceof Kind)) {
      throw new TypeError(`metric ${config.name} is already registered with another type`);
    }
    return existing;
  }
  return new Kind({ ...config, registers: [registry] });
}
