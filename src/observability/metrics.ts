/**
 * The process-wide Prometheus registry. Services register their own metrics on it through
 * `metricsRegistry()`; names are prefixed `bigbrotr_`.
 */
import { Registry, collectDefaultMetrics, Gauge } from 'prom-client';

let registry: Registry | undefined;

export function metricsRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'bigbrotr_' });
    new Gauge({
      name: 'bigbrotr_build_info',
      help: 'Always 1; labels carry the version and the database kind.',
      labelNames: ['version', 'database'],
      registers: [registry],
    });
  }
  return registry;
}

export function setBuildInfo(version: string, database: string): void {
  const gauge = metricsRegistry().getSingleMetric('bigbrotr_build_info') as Gauge | undefined;
  gauge?.reset();
  gauge?.set({ version, database }, 1);
}

/** For tests that need a clean registry. */
export function resetMetricsRegistry(): void {
  registry?.clear();
  registry = undefined;
}
