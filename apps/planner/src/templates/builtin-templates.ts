import { limits, type StepInput } from '@agentry/schema';
import { regexTemplate, type Template } from './template';

const deploy = regexTemplate(
  'deploy',
  'deploy build N to ENV (and post the result to CHANNEL)',
  /\bdeploy\s+(?:build\s+)?(?<build>[\w.-]+)\s+to\s+(?<env>[\w-]+)(?:.*?\b(?:post|send|report)\b.*?\bto\s+(?<channel>[#@]?[\w-]+))?/i,
  ({ build = '', env = '', channel }) => {
    const prod = /^prod/i.test(env);
    const steps: StepInput[] = [
      { id: 'prepare', tool: 'echo', input: { message: `prepare build ${build} for ${env}` } },
      {
        id: 'rollout',
        tool: 'wait',
        input: { ms: 50 },
        dependsOn: ['prepare'],
        risk: prod ? 'high' : 'medium',
      },
      {
        id: 'verify',
        tool: 'echo',
        input: { message: `verify build ${build} on ${env}` },
        dependsOn: ['rollout'],
      },
    ];
    if (channel) {
      steps.push({
        id: 'notify',
        tool: 'echo',
        input: { message: `build ${build} deployed to ${env}`, data: { channel } },
        dependsOn: ['verify'],
      });
    }
    return {
      summary: `Deploy build ${build} to ${env}${channel ? ` and report to ${channel}` : ''}`,
      steps,
    };
  },
);

const httpCheck = regexTemplate(
  'http-check',
  'check|fetch|get|ping URL',
  /\b(?:check|fetch|get|ping)\s+(?<url>https?:\/\/\S+)/i,
  ({ url = '' }) => ({
    summary: `Request ${url} and report the status`,
    steps: [
      { id: 'request', tool: 'http.request', input: { url, method: 'GET' }, risk: 'medium' },
      { id: 'report', tool: 'echo', input: { message: `checked ${url}` }, dependsOn: ['request'] },
    ],
  }),
);

const webhook = regexTemplate(
  'webhook',
  'notify|post to|send to URL',
  /\b(?:notify|post\s+to|send\s+to)\s+(?<url>https?:\/\/\S+)/i,
  ({ url = '' }, intent) => ({
    summary: `Notify ${url}`,
    steps: [
      {
        id: 'notify',
        tool: 'webhook.notify',
        input: { url, event: 'intent', payload: { text: intent.text, tenantId: intent.tenantId } },
      },
    ],
  }),
);

const wait = regexTemplate(
  'wait',
  'wait N ms|s',
  /\bwait\s+(?<n>\d{1,6})\s*(?<unit>ms|milliseconds?|s|secs?|seconds?)\b/i,
  ({ n = '0', unit = 'ms' }) => {
    const ms = Math.min(Number(n) * (unit.startsWith('m') ? 1 : 1000), 600_000);
    return {
      summary: `Wait ${ms} ms`,
      steps: [{ id: 'wait', tool: 'wait', input: { ms }, timeoutMs: Math.max(30_000, ms + 5_000) }],
    };
  },
);

const echoChain = regexTemplate(
  'echo-chain',
  'echo N steps: a chain of N echo steps (drills, benchmarks)',
  /\becho\s+(?<n>\d{1,3})\s+steps?\b/i,
  ({ n = '1' }) => {
    const count = Math.max(1, Math.min(Number(n), limits.planMaxSteps));
    const steps: StepInput[] = Array.from({ length: count }, (_, i) => ({
      id: `s${i + 1}`,
      tool: 'echo',
      input: { message: `step ${i + 1} of ${count}` },
      dependsOn: i === 0 ? [] : [`s${i}`],
    }));
    return { summary: `A chain of ${count} echo steps`, steps };
  },
);

const failureDrill = regexTemplate(
  'failure-drill',
  'failure drill: two steps succeed, the third fails for good (rehearses dead letters and compensation)',
  /\bfailure\s+drill\b/i,
  () => ({
    summary: 'Failure drill: the third step fails for good; the first two are compensated',
    steps: [
      { id: 'first', tool: 'echo', input: { message: 'first' } },
      { id: 'second', tool: 'echo', input: { message: 'second' }, dependsOn: ['first'] },
      {
        id: 'third',
        tool: 'echo',
        input: { message: 'third', fail: 'fatal' },
        dependsOn: ['second'],
        maxAttempts: 1,
      },
    ],
  }),
);

const summarise = regexTemplate(
  'summarise',
  'summarise|summarize ...',
  /\bsummari[sz]e\b/i,
  (_captures, intent) => ({
    summary: 'Record a summary request',
    steps: [
      {
        id: 'summarise',
        tool: 'echo',
        input: { message: 'summary requested', data: { text: intent.text } },
      },
    ],
  }),
);

/**
 * The template every planner chain ends in: it matches anything and only acknowledges the intent,
 * so a run never fails for want of a plan.
 */
export const acknowledgeTemplate: Template = {
  id: 'acknowledge',
  description: 'anything else: acknowledge the intent (the safe fallback plan)',
  match: () => ({}),
  build: (_captures, intent) => ({
    summary: 'No template matched: acknowledge the intent without acting on it',
    steps: [
      {
        id: 'acknowledge',
        tool: 'echo',
        input: { message: 'intent acknowledged', data: { text: intent.text } },
      },
    ],
  }),
};

/** Built-in templates, in the order they are tried (before the acknowledge fallback). */
export const builtinTemplates: readonly Template[] = [
  deploy,
  failureDrill,
  echoChain,
  httpCheck,
  webhook,
  wait,
  summarise,
];
