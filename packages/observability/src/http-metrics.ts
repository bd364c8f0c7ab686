import { Counter, Histogram, type Registry } from 'prom-client';
import { getOrCreateMetric } from './get-or-create-metric';

/** Why a request was refused, when its answer says so; anything else is counted as `none`. */
export const refusalReasons = [
  'redis_unreachable',
  'redis_memory_full',
  'database',
  'body_too_large',
  'invalid_json',
] as const;
export type RefusalReason = (typeof refusalReasons)[number] | 'none';

const methods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** One answered request, as {@link HttpMetrics.observe} counts it. */
export interface HttpObservation {
  method: string;
  /** The matched route's template (`/v1/runs/:id`), never the URL; undefined when none matched. */
  route: string | undefined;
  status: number;
  durationMs: number;
  /** For an error answer: the error code of its body and the reason it gives. */
  refusal?: { code: string; reason: RefusalReason };
}

/**
 * The HTTP API's traffic:
 *
 * - `agentry_api_requests_total{method,route,status}` — answers by route template and status.
 * - `agentry_api_request_duration_seconds{method,route}` — time to answer, 1 ms … 30 s.
 * - `agentry_api_refusals_total{route,code,reason}` — error answers by their error code and, when
 *   the answer names one, the reason (Redis unreachable or full, database away, body too large,
 *   JSON that does not parse): how many producers were turned away, and why.
 *
 * Labels are bounded: route templates (`unmatched` for a 404 without a route), known methods
 * (`other` for the rest), error codes and {@link refusalReasons}; never a URL or an id.
 */
export class HttpMetrics {
  readonly #requests: Counter<'method' | 'route' | 'status'>;
  readonly #duration: Histogram<'method' | 'route'>;
  readonly #refusals: Counter<'route' | 'code' | 'reason'>;

  constructor(registry: Registry) {
    this.#requests = getOrCreateMetric(registry, Counter<'method' | 'route' | 'status'>, {
      name: 'agentry_api_requests_total',
      help: 'HTTP requests answered, by method, route template and status.',
      labelNames: ['method', 'route', 'status'],
    });
    this.#duration = getOrCreateMetric(registry, Histogram<'method' | 'route'>, {
      name: 'agentry_api_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method and route template.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    this.#refusals = getOrCreateMetric(registry, Counter<'route' | 'code' | 'reason'>, {
      name: 'agentry_api_refusals_total',
      help: 'Error answers of the HTTP API, by route template, error code and reason.',
      labelNames: ['route', 'code', 'reason'],
    });
  }

  observe(o: HttpObservation): void {
    const method = methods.has(o.method) ? o.method : 'other';
    const route = o.route ?? 'unmatched';
    this.#requests.inc({ method, route, status: String(o.status) });
    if (Number.isFinite(o.durationMs)) {
      this.#duration.observe({ method, route }, Math.max(0, o.durationMs) / 1_000);
    }
    if (o.refusal) this.#refusals.inc({ route, code: o.refusal.code, reason: o.refusal.reason });
  }
}

/**
 * The error code and reason of an error answer's JSON body (`{ error: { code, details } }`), or
 * undefined when the body is not one. `status` 413 is `body_too_large` whatever the body says.
 */
export function refusalOf(
  status: number,
  body: string,
): { code: string; reason: RefusalReason } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, details } = error as { code?: unknown; details?: Record<string, unknown> };
  if (typeof code !== 'string' || !/^[A-Z_]{1,40}$/.test(code)) return undefined;
  return { code, reason: reasonOf(status, details) };
}

function reasonOf(status: number, details: Record<string, unknown> | undefined): RefusalReason {
  if (status === 413) return 'body_too_large';
  const named = details?.reason ?? details?.dependency;
  if ((refusalReasons as readonly unknown[]).includes(named)) return named as RefusalReason;
  const issues = details?.issues;
  const first = Array.isArray(issues) ? (issues[0] as { code?: unknown } | undefined) : undefined;
  return first?.code === 'invalid_json' ? 'invalid_json' : 'none';
}
