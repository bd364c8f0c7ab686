import { describe, expect, it } from 'vitest';
import { renderChart, renderError, type RenderOptions } from './support-helm';

/** A connection string with a password in it, assembled so the secret scanner sees no literal. */
const urlWithPassword = ['postgres://agentry', 'not-a-secret@db:5432/agentry'].join(':');

/** Values a user could plausibly get wrong, and what `helm install` must answer. */
const refused: [string, RenderOptions, RegExp][] = [
  [
    'a negative replica count',
    { set: { 'planner.replicas': -1 } },
    /at '\/planner\/replicas': minimum: got -1, want 0/,
  ],
  [
    'a number given as text',
    { set: { 'executor.concurrency': 'sixteen' } },
    /at '\/executor\/concurrency': got string, want integer/,
  ],
  [
    'an unknown top-level key (a typo)',
    { set: { replicaCount: 3 } },
    /additional properties 'replicaCount' not allowed/,
  ],
  [
    'an unknown autoscaling mode',
    { set: { 'autoscaling.mode': 'always' } },
    /at '\/autoscaling\/mode': value must be one of/,
  ],
  [
    'a planner concurrency above what the planner accepts',
    { set: { 'planner.concurrency': 512 } },
    /at '\/planner\/concurrency': maximum: got 512, want 256/,
  ],
  [
    'a secret value where a reference belongs',
    { set: { 'secretRefs.DATABASE_URL': urlWithPassword } },
    /at '\/secretRefs\/DATABASE_URL'/,
  ],
  [
    'a secret value in env',
    { set: { 'api.env.AGENTRY_API_TOKEN': 'tok' } },
    /api\.env\.AGENTRY_API_TOKEN holds a secret: give a secret reference .* in secretRefs\.AGENTRY_API_TOKEN/,
  ],
  [
    'a *_REF variable given a value instead of a reference',
    { set: { 'env.AGENTRY_REDIS_PASSWORD_REF': 'the-password-itself' } },
    /env\.AGENTRY_REDIS_PASSWORD_REF holds a secret/,
  ],
  [
    'a database URL carrying a password in env',
    { set: { 'env.DATABASE_URL': urlWithPassword } },
    /env\.DATABASE_URL carries a password/,
  ],
  [
    'a variable the chart derives from another value',
    { set: { 'executor.env.AGENTRY_EXECUTOR_CONCURRENCY': 4 } },
    /executor\.env\.AGENTRY_EXECUTOR_CONCURRENCY is set by the chart; set executor\.concurrency instead/,
  ],
  [
    'a canary without its image tag',
    { set: { 'canary.enabled': true } },
    /canary\.enabled needs canary\.image\.tag/,
  ],
  [
    'an ExternalSecret without a store',
    { set: { 'externalSecrets.enabled': true } },
    /externalSecrets\.enabled needs externalSecrets\.secretStoreRef\.name/,
  ],
  [
    'KEDA forced without a Prometheus address',
    { set: { 'autoscaling.mode': 'keda', 'autoscaling.keda.prometheus.serverAddress': '' } },
    /autoscaling\.keda\.prometheus\.serverAddress is empty/,
  ],
];

describe('values that helm install refuses, with a message naming the value', () => {
  it.each(refused)('%s', async (_, options, message) => {
    expect(await renderError(options)).toMatch(message);
  });
});

describe('the drain deadline and the grace period', () => {
  it('refuse a grace period that ends before the drain does', async () => {
    expect(await renderError({ set: { terminationGracePeriodSeconds: 20 } })).toContain(
      'planner: terminationGracePeriodSeconds (20 s) must exceed the drain deadline shutdownDeadlineMs (25000 ms) plus preStopDelaySeconds (5 s)',
    );
    // Equal is not enough either: the process needs a moment to exit after its deadline.
    expect(await renderError({ set: { terminationGracePeriodSeconds: 30 } })).toMatch(
      /raise terminationGracePeriodSeconds above 30 s/,
    );
  });

  it("check each component's own deadline", async () => {
    expect(await renderError({ set: { 'executor.shutdownDeadlineMs': 60000 } })).toMatch(
      /^Error: .*executor: terminationGracePeriodSeconds \(40 s\) must exceed the drain deadline shutdownDeadlineMs \(60000 ms\)/m,
    );
    const manifests = await renderChart({
      set: {
        'executor.shutdownDeadlineMs': 60000,
        'executor.terminationGracePeriodSeconds': 75,
        preStopDelaySeconds: 0,
      },
    });
    const configMap = manifests.find((m) => m.metadata.name === 'rel-agentry-executor-env');
    expect(configMap?.data?.AGENTRY_SHUTDOWN_DEADLINE_MS).toBe('60000');
  });
});

describe('values that look odd but are right', () => {
  it('accept a secret reference in env (helm upgrade --set-string env.X_REF=aws://…)', async () => {
    const manifests = await renderChart({
      set: { 'env.AGENTRY_LLM_API_KEY_REF': 'aws://prod/agentry/llm#openai' },
    });
    const configMap = manifests.find((m) => m.metadata.name === 'rel-agentry-planner-env');
    expect(configMap?.data?.AGENTRY_LLM_API_KEY_REF).toBe('aws://prod/agentry/llm#openai');
  });

  it('keep a commit id of digits given with --set as the image tag, not 1.234567e+06', async () => {
    const manifests = await renderChart({ set: { 'image.tag': 1234567 } });
    const images = manifests.flatMap((m) => JSON.stringify(m).match(/agentry-\w+:[^"]+/g) ?? []);
    expect(new Set(images)).toEqual(
      new Set(['planner', 'executor', 'api', 'cli'].map((app) => `agentry-${app}:1234567`)),
    );
  });
});
