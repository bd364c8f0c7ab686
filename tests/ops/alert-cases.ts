/**
 * Recorded series for each alert of deploy/prometheus/alerts.yml, in promtool's `input_series`
 * notation: recordings on which the alert must fire (when, with which labels) and recordings on
 * which it must not. Read by alert-rules.test.ts.
 */
export const MIN = 60_000;
/** Every scenario is recorded for an hour, one sample a minute, evaluated every minute. */
export const END = 60 * MIN;

/**
 * The scrape jobs and targets of deploy/prometheus/prometheus.yml (stack-config.test.ts holds
 * them equal): Prometheus attaches `job` and `instance` to every series it scrapes.
 */
export const scrapeTargets = {
  planner: { job: 'agentry-planner', instance: 'planner:9464' },
  executor: { job: 'agentry-executor', instance: 'executor:9464' },
  api: { job: 'agentry-api', instance: 'api:8080' },
} as const;

const target = (t: { job: string; instance: string }) => `job="${t.job}",instance="${t.instance}"`;
const planner = target(scrapeTargets.planner);
const executor = target(scrapeTargets.executor);
const api = target(scrapeTargets.api);
// …and every agentry metric carries the constant label `component`.
const fromPlanner = `${planner},component="planner"`;
const fromExecutor = `${executor},component="executor"`;
const fromApi = `${api},component="api"`;

/** All three targets scraped for the whole hour; scenarios override single series. */
export const targetsUp: Record<string, string> = {
  [`up{${planner}}`]: '1x60',
  [`up{${executor}}`]: '1x60',
  [`up{${api}}`]: '1x60',
};

export interface FiringScenario {
  name: string;
  series: Record<string, string>;
  /** When the alert first fires: the condition holds from `firesAt - for` on. */
  firesAt: number;
  /** The labels of each alert firing then (`alertname` added by the test). */
  labels: Record<string, string>[];
}

export interface AlertCase {
  alert: string;
  fires: FiringScenario[];
  /** Healthy, or not bad for long enough: the alert never fires (it may be pending). */
  quiet: Record<string, Record<string, string>>;
}

/** Series for a step-duration histogram: cumulative bucket counts in promtool notation. */
function stepBuckets(tool: string, byLe: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(byLe).map(([le, values]) => [
      `agentry_executor_step_duration_seconds_bucket{${fromExecutor},tool="${tool}",outcome="succeeded",le="${le}"}`,
      values,
    ]),
  );
}

const fastTool = (tool: string) =>
  stepBuckets(tool, { '0.25': '0+10x60', '0.5': '0+10x60', '1': '0+10x60', '+Inf': '0+10x60' });

export const cases: AlertCase[] = [
  {
    alert: 'AgentryStepErrorRateHigh',
    fires: [
      {
        // From 21m, 10 of every 110 steps a minute fail (9%); for 5m.
        name: 'failures start at 21m',
        series: {
          [`agentry_executor_steps_total{${fromExecutor},tool="echo",outcome="succeeded"}`]:
            '0+100x60',
          [`agentry_executor_steps_total{${fromExecutor},tool="echo",outcome="failed"}`]:
            '0x20 10+10x39',
        },
        firesAt: 26 * MIN,
        labels: [{ severity: 'warning' }],
      },
    ],
    quiet: {
      'half a percent of the steps fail': {
        [`agentry_executor_steps_total{${fromExecutor},tool="echo",outcome="succeeded"}`]:
          '0+199x60',
        [`agentry_executor_steps_total{${fromExecutor},tool="echo",outcome="failed"}`]: '0+1x60',
      },
      'no step ran (0/0)': {
        [`agentry_executor_steps_total{${fromExecutor},tool="echo",outcome="succeeded"}`]: '0x60',
      },
    },
  },
  {
    alert: 'AgentryStepLatencyHigh',
    fires: [
      {
        // From 21m, 30 of every 40 http steps a minute take 0.5–1 s (p95 ≈ 0.94 s); for 10m.
        name: 'the http tool slows down at 21m',
        series: {
          ...fastTool('echo'),
          ...stepBuckets('http', {
            '0.25': '0+10x60',
            '0.5': '0+10x60',
            '1': '0+10x20 240+40x39',
            '+Inf': '0+10x20 240+40x39',
          }),
        },
        firesAt: 31 * MIN,
        labels: [{ severity: 'warning', tool: 'http' }],
      },
    ],
    quiet: {
      'every step under 250 ms': { ...fastTool('echo'), ...fastTool('http') },
      'no step ran (no quantile)': stepBuckets('http', { '0.5': '0x60', '+Inf': '0x60' }),
    },
  },
  {
    alert: 'AgentryDeadLettersGrowing',
    fires: [
      {
        name: 'a counted dead letter on a known series (increase)',
        series: {
          [`agentry_queue_dead_letters_total{${fromExecutor},queue="agentry.step",code="TOOL_FAILED"}`]:
            '1x30 2x29',
        },
        firesAt: 31 * MIN,
        labels: [{ severity: 'warning', queue: 'agentry.step' }],
      },
      {
        name: 'the first dead letter since the process started (a new series at 1)',
        series: {
          [`agentry_queue_dead_letters_total{${fromPlanner},queue="agentry.plan",code="INVALID_PAYLOAD"}`]:
            '_x30 1x29',
        },
        firesAt: 30 * MIN,
        labels: [{ severity: 'warning', queue: 'agentry.plan' }],
      },
      {
        name: 'more dead letters waiting in Postgres (the API gauge)',
        series: { [`agentry_queue_dead_lettered_jobs{${fromApi},queue="api"}`]: '0x29 1x30' },
        firesAt: 30 * MIN,
        labels: [{ severity: 'warning', queue: 'api' }],
      },
    ],
    quiet: {
      'old dead letters only, Prometheus started meanwhile': {
        [`agentry_queue_dead_letters_total{${fromExecutor},queue="agentry.step",code="TOOL_FAILED"}`]:
          '3x60',
        [`agentry_queue_dead_lettered_jobs{${fromApi},queue="agentry.step"}`]: '3x60',
      },
      'dead letters replayed (the gauge falls)': {
        [`agentry_queue_dead_lettered_jobs{${fromApi},queue="agentry.step"}`]: '5x30 2x29',
      },
    },
  },
  {
    alert: 'AgentryOldestWaitingJobTooOld',
    fires: [
      {
        // Nothing is taken from 20m on: the age passes 300 s at 26m; for 2m.
        name: 'the step queue stops moving at 20m',
        series: {
          [`agentry_queue_oldest_waiting_age_seconds{${fromApi},queue="agentry.step"}`]:
            '0x20 60+60x39',
          [`agentry_queue_oldest_waiting_age_seconds{${fromApi},queue="agentry.plan"}`]: '0x60',
        },
        firesAt: 28 * MIN,
        labels: [{ severity: 'critical', queue: 'agentry.step' }],
      },
    ],
    quiet: {
      'a steady two-minute wait': {
        [`agentry_queue_oldest_waiting_age_seconds{${fromApi},queue="agentry.step"}`]: '120x60',
      },
      'one old job taken within a minute': {
        [`agentry_queue_oldest_waiting_age_seconds{${fromApi},queue="agentry.step"}`]:
          '0x20 400 0x38',
      },
    },
  },
  {
    alert: 'AgentryLlmBreakerOpen',
    fires: [
      {
        name: "the planner's circuit opens at 21m",
        series: {
          [`agentry_llm_breaker_state{${fromPlanner},provider="openai",model="gpt-a"}`]:
            '0x20 2x39',
          [`agentry_llm_breaker_state{${fromExecutor},provider="openai",model="gpt-a"}`]: '0x60',
        },
        firesAt: 22 * MIN,
        labels: [{ severity: 'warning', component: 'planner', provider: 'openai', model: 'gpt-a' }],
      },
    ],
    quiet: {
      'closed and half-open': {
        [`agentry_llm_breaker_state{${fromPlanner},provider="openai",model="gpt-a"}`]:
          '0x20 1x10 0x28',
      },
      'open for less than a minute': {
        [`agentry_llm_breaker_state{${fromPlanner},provider="openai",model="gpt-a"}`]:
          '0x20 2 0x38',
      },
    },
  },
  {
    alert: 'AgentryBudgetThresholdCrossed',
    fires: [
      {
        name: 'a tenant reaches 80% (warning)',
        series: {
          [`agentry_budget_threshold_crossings_total{${fromExecutor},tenant="acme",threshold="80"}`]:
            '_x30 1x29',
        },
        firesAt: 30 * MIN,
        labels: [{ severity: 'warning', tenant: 'acme', threshold: '80' }],
      },
      {
        name: 'a tenant reaches 100% (critical)',
        series: {
          [`agentry_budget_threshold_crossings_total{${fromPlanner},tenant="acme",threshold="100"}`]:
            '_x30 1x29',
        },
        firesAt: 30 * MIN,
        labels: [{ severity: 'critical', tenant: 'acme', threshold: '100' }],
      },
      {
        name: 'a crossing counted again by a long-lived process (increase)',
        series: {
          [`agentry_budget_threshold_crossings_total{${fromExecutor},tenant="acme",threshold="50"}`]:
            '1x30 2x29',
        },
        firesAt: 31 * MIN,
        labels: [{ severity: 'warning', tenant: 'acme', threshold: '50' }],
      },
    ],
    quiet: {
      'crossings from before Prometheus started': {
        [`agentry_budget_threshold_crossings_total{${fromExecutor},tenant="acme",threshold="100"}`]:
          '1x60',
        [`agentry_budget_threshold_crossings_total{${fromExecutor},tenant="acme",threshold="50"}`]:
          '1x60',
      },
    },
  },
  {
    alert: 'AgentryRedisMemoryHigh',
    fires: [
      {
        // used grows 10 MB a minute from 500 MB: above 800 MB of 1000 MB at 31m; for 5m.
        name: 'used memory passes 80% at 31m',
        series: {
          [`agentry_redis_memory_used_bytes{${fromApi}}`]: '500e6+10e6x60',
          [`agentry_redis_memory_max_bytes{${fromApi}}`]: '1000e6x60',
        },
        firesAt: 36 * MIN,
        labels: [{ severity: 'warning' }],
      },
    ],
    quiet: {
      'half the limit': {
        [`agentry_redis_memory_used_bytes{${fromApi}}`]: '500e6x60',
        [`agentry_redis_memory_max_bytes{${fromApi}}`]: '1000e6x60',
      },
      'no maxmemory (0)': {
        [`agentry_redis_memory_used_bytes{${fromApi}}`]: '5e9x60',
        [`agentry_redis_memory_max_bytes{${fromApi}}`]: '0x60',
      },
    },
  },
  {
    alert: 'AgentryIntakeRefused',
    fires: [
      {
        // Redis full from 19m: 30 refusals a minute; an increase in the 2m window from 20m, for 5m.
        name: 'submissions answered 503 redis_memory_full from 20m',
        series: {
          [`agentry_api_refusals_total{${fromApi},route="/v1/runs",code="UNAVAILABLE",reason="redis_memory_full"}`]:
            '_x19 1+30x40',
          [`agentry_api_refusals_total{${fromApi},route="/v1/runs",code="VALIDATION",reason="none"}`]:
            '0+5x60',
        },
        firesAt: 25 * MIN,
        labels: [{ severity: 'critical', reason: 'redis_memory_full' }],
      },
    ],
    quiet: {
      'bad input refused all along (400s are the producer’s, not an outage)': {
        [`agentry_api_refusals_total{${fromApi},route="/v1/runs",code="VALIDATION",reason="invalid_json"}`]:
          '0+5x60',
      },
      'a Redis restart refusing for 2 minutes': {
        [`agentry_api_refusals_total{${fromApi},route="/v1/runs",code="UNAVAILABLE",reason="redis_unreachable"}`]:
          '0x20 10 20 20x38',
      },
      'a 503 on another route': {
        [`agentry_api_refusals_total{${fromApi},route="/v1/runs/:id",code="UNAVAILABLE",reason="database"}`]:
          '0+10x60',
      },
    },
  },
  {
    alert: 'AgentryWorkerNotReady',
    fires: [
      {
        name: 'the executor stops answering at 21m (the API being down is not this alert)',
        series: { [`up{${executor}}`]: '1x20 0x39', [`up{${api}}`]: '0x60' },
        firesAt: 23 * MIN,
        labels: [{ severity: 'critical', job: 'agentry-executor', instance: 'executor:9464' }],
      },
    ],
    quiet: {
      'every worker up': {},
      'one failed scrape': { [`up{${planner}}`]: '1x20 0 1x38' },
    },
  },
];
