import { Counter, type Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRegistry } from './create-registry';
import { DeadLetterMetrics } from './dead-letter-metrics';
import { JobMetrics } from './job-metrics';
import { QueueDepthMetrics } from './queue-depth-metrics';
import { StepMetrics } from './step-metrics';

const text = (registry: Registry) => registry.metrics();

describe('createRegistry', () => {
  it('is a fresh registry with the component as a default label', async () => {
    const registry = createRegistry({ component: 'executor' });
    new DeadLetterMetrics(registry).inc('agentry.step', 'TIMEOUT');
    expect(await text(registry)).toContain(
      'agentry_queue_dead_letters_total{queue="agentry.step",code="TIMEOUT",component="executor"} 1',
    );
    expect(await text(createRegistry())).toBe('\n');
  });

  it('collects default process metrics only when asked', async () => {
    expect(await text(createRegistry({ component: 'api' }))).not.toContain('process_cpu');
    const out = await text(createRegistry({ component: 'api', defaultMetrics: true }));
    expect(out).toContain('process_cpu_user_seconds_total{component="api"}');
    expect(out).toContain('nodejs_eventloop_lag_seconds');
  });
});

describe('JobMetrics', () => {
  it('counts jobs and records durations and attempts', async () => {
    const registry = createRegistry();
    const metrics = new JobMetrics(registry);
    metrics.observe({
      queue: 'agentry.step',
      job: 'step',
      outcome: 'completed',
      durationMs: 1500,
      attempts: 2,
    });
    metrics.observe({ queue: 'agentry.step', job: 'step', outcome: 'completed', durationMs: 3 });
    metrics.observe({ queue: 'agentry.step', job: 'step', outcome: 'retried', durationMs: 20 });
    const out = await text(registry);
    expect(out).toContain('# TYPE agentry_queue_jobs_total counter');
    expect(out).toContain(
      'agentry_queue_jobs_total{queue="agentry.step",job="step",outcome="completed"} 2',
    );
    expect(out).toContain(
      'agentry_queue_jobs_total{queue="agentry.step",job="step",outcome="retried"} 1',
    );
    expect(out).toContain('# TYPE agentry_queue_job_duration_seconds histogram');
    expect(out).toContain(
      'agentry_queue_job_duration_seconds_sum{queue="agentry.step",job="step",outcome="completed"} 1.503',
    );
    expect(out).toContain(
      'agentry_queue_job_duration_seconds_bucket{le="0.001",queue="agentry.step",job="step",outcome="completed"} 0',
    );
    expect(out).toContain(
      'agentry_queue_job_duration_seconds_bucket{le="0.005",queue="agentry.step",job="step",outcome="completed"} 1',
    );
    expect(out).toContain(
      'agentry_queue_job_duration_seconds_bucket{le="300",queue="agentry.step",job="step",outcome="completed"} 2',
    );
    expect(out).toContain('agentry_queue_job_attempts_count{queue="agentry.step",job="step"} 1');
    expect(out).toContain('agentry_queue_job_attempts_sum{queue="agentry.step",job="step"} 2');
  });

  it('shares the series when built twice on one registry', async () => {
    const registry = createRegistry();
    new JobMetrics(registry).observe({ queue: 'q', job: 'j', outcome: 'failed', durationMs: 1 });
    new JobMetrics(registry).observe({ queue: 'q', job: 'j', outcome: 'failed', durationMs: 1 });
    expect(await text(registry)).toContain(
      'agentry_queue_jobs_total{queue="q",job="j",outcome="failed"} 2',
    );
  });

  it('refuses a name taken by another metric type', () => {
    const registry = createRegistry();
    new Counter({ name: 'agentry_queue_job_attempts', help: 'x', registers: [registry] });
    expect(() => new JobMetrics(registry)).toThrow(TypeError);
  });

  it('clamps a bad duration to zero', async () => {
    const registry = createRegistry();
    new JobMetrics(registry).observe({
      queue: 'q',
      job: 'j',
      outcome: 'invalid',
      durationMs: Number.NaN,
    });
    expect(await text(registry)).toContain(
      'agentry_queue_job_duration_seconds_sum{queue="q",job="j",outcome="invalid"} 0',
    );
  });
});

describe('QueueDepthMetrics', () => {
  it('sets known states (BullMQ wait → waiting), ignores others, and the oldest age', async () => {
    const registry = createRegistry();
    const metrics = new QueueDepthMetrics(registry);
    metrics.set(
      'agentry.plan',
      { wait: 4, active: 2, delayed: 1, 'waiting-children': 3, bogus: 9 },
      12.5,
    );
    let out = await text(registry);
    expect(out).toContain('# TYPE agentry_queue_jobs gauge');
    expect(out).toContain('agentry_queue_jobs{queue="agentry.plan",state="waiting"} 4');
    expect(out).toContain('agentry_queue_jobs{queue="agentry.plan",state="active"} 2');
    expect(out).toContain('agentry_queue_jobs{queue="agentry.plan",state="waiting-children"} 3');
    expect(out).not.toContain('bogus');
    expect(out).toContain('agentry_queue_oldest_waiting_age_seconds{queue="agentry.plan"} 12.5');

    metrics.set('agentry.plan', { waiting: 0 }, 0);
    out = await text(registry);
    expect(out).toContain('agentry_queue_jobs{queue="agentry.plan",state="waiting"} 0');
    expect(out).toContain('agentry_queue_oldest_waiting_age_seconds{queue="agentry.plan"} 0');
  });
});

describe('DeadLetterMetrics', () => {
  it('counts dead letters by queue and code', async () => {
    const registry = createRegistry();
    const metrics = new DeadLetterMetrics(registry);
    metrics.inc('agentry.plan', 'VALIDATION');
    metrics.inc('agentry.plan', 'VALIDATION');
    metrics.inc('agentry.step', 'TOOL_FAILED');
    const out = await text(registry);
    expect(out).toContain('# TYPE agentry_queue_dead_letters_total counter');
    expect(out).toContain(
      'agentry_queue_dead_letters_total{queue="agentry.plan",code="VALIDATION"} 2',
    );
    expect(out).toContain(
      'agentry_queue_dead_letters_total{queue="agentry.step",code="TOOL_FAILED"} 1',
    );
  });
});

describe('StepMetrics', () => {
  it('counts steps and records their durations and attempts', async () => {
    const registry = createRegistry();
    const metrics = new StepMetrics(registry);
    metrics.observeStep({
      tool: 'http.request',
      outcome: 'succeeded',
      durationMs: 250,
      attempt: 1,
    });
    metrics.observeStep({ tool: 'http.request', outcome: 'failed', durationMs: 2000, attempt: 3 });
    const out = await text(registry);
    expect(out).toContain(
      'agentry_executor_step_attempts_bucket{le="2",tool="http.request",outcome="failed"} 0',
    );
    expect(out).toContain(
      'agentry_executor_step_attempts_bucket{le="3",tool="http.request",outcome="failed"} 1',
    );
    expect(out).toContain(
      'agentry_executor_steps_total{tool="http.request",outcome="succeeded"} 1',
    );
    expect(out).toContain('agentry_executor_steps_total{tool="http.request",outcome="failed"} 1');
    expect(out).toContain('# TYPE agentry_executor_step_duration_seconds histogram');
    expect(out).toContain(
      'agentry_executor_step_duration_seconds_sum{tool="http.request",outcome="succeeded"} 0.25',
    );
    expect(out).toContain(
      'agentry_executor_step_duration_seconds_bucket{le="2.5",tool="http.request",outcome="failed"} 1',
    );
  });
});
