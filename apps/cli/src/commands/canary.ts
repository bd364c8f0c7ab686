import type { Command } from 'commander';
import { analyzeCanary } from '../canary/analyze-canary';
import { canaryReportJson } from '../canary/canary-report-json';
import { defaultCanaryThresholds as d } from '../canary/canary-thresholds';
import { canaryExitCodes } from '../canary/decide-canary';
import { parseCanaryOptions, type CanaryFlags } from '../canary/parse-canary-options';
import { createPrometheusClient, printableUrl } from '../canary/prometheus-client';
import { renderCanaryReport } from '../canary/render-canary-report';
import { openCliSecretStore } from '../cli-secrets';

const exitCodes = `
Exit codes:
  0  promote       every judged check passed
  2  rollback      a check failed: error rate, p95 latency, worse than the baseline, a canary
                   target down or restarted, or dead letters on the canary
  3  inconclusive  too little canary traffic (--min-steps) or no canary target: never a pass
  1  no analysis   Prometheus unreachable, timed out or in error, or bad flags

Every query is sent at most 3 times (network errors, 5xx, 429; backoff with jitter), each bounded
by --timeout; a timed-out query is not retried. See docs/canary-analysis.md.`;

/** The value of a secret reference, resolved with the CLI's secret store; never printed. */
async function resolveSecret(env: Record<string, string | undefined>, ref: string) {
  const secrets = await openCliSecretStore(env);
  try {
    return await secrets.store.get(ref);
  } finally {
    await secrets.close();
  }
}

/**
 * `agentry canary analyze`: asks Prometheus how the canary did against the baseline over a
 * window and prints promote, rollback or inconclusive with the reasons; the exit code carries the
 * verdict (0, 2, 3; 1 when no analysis could be made).
 */
export function canaryCommands(program: Command, env: Record<string, string | undefined>) {
  const canary = program.command('canary').description('canary deploys');
  canary
    .command('analyze')
    .description(
      "compare the canary's error rate, p95 step latency, health and dead letters with the " +
        "baseline's in Prometheus, and decide: promote, rollback or inconclusive",
    )
    .option(
      '--prometheus <url>',
      'Prometheus base URL (env AGENTRY_PROMETHEUS_URL)',
      env.AGENTRY_PROMETHEUS_URL,
    )
    .option('--window <duration>', 'analysis window, ending --at', '5m')
    .option('--at <time>', 'end of the window: RFC 3339 or unix seconds (default: now)')
    .option(
      '--canary-selector <matchers>',
      "label matchers of the canary's series",
      'track="canary"',
    )
    .option(
      '--baseline-selector <matchers>',
      "label matchers of the baseline's series",
      'track="stable"',
    )
    .option(
      '--max-error-rate <ratio>',
      'roll back above this share of failed steps',
      String(d.maxErrorRate),
    )
    .option('--max-p95-ms <ms>', 'roll back above this p95 step latency', String(d.maxP95Ms))
    .option(
      '--error-rate-margin <ratio>',
      "roll back when the canary's error rate is more than this above the baseline's …",
      String(d.errorRateMargin),
    )
    .option(
      '--error-rate-factor <x>',
      '… and more than this many times it',
      String(d.errorRateFactor),
    )
    .option(
      '--p95-factor <x>',
      "roll back when the canary's p95 is more than this many times the baseline's …",
      String(d.p95Factor),
    )
    .option('--p95-margin-ms <ms>', '… and more than this many ms above it', String(d.p95MarginMs))
    .option(
      '--min-steps <n>',
      'fewer step executions on the canary is inconclusive',
      String(d.minSteps),
    )
    .option('--timeout <duration>', 'bound of each Prometheus request (a bare number is ms)', '10s')
    .option('--bearer-token-ref <ref>', 'secret reference of a bearer token for Prometheus')
    .option('--json', 'print the analysis as JSON')
    .addHelpText('after', exitCodes)
    .action(async (flags: CanaryFlags) => {
      const options = parseCanaryOptions(flags);
      const bearerToken = options.bearerTokenRef
        ? await resolveSecret(env, options.bearerTokenRef)
        : undefined;
      const prometheus = printableUrl(options.prometheusUrl);
      // The queries run concurrently and fail alike: one note per distinct failure and attempt.
      const noted = new Set<string>();
      const client = createPrometheusClient({
        url: options.prometheusUrl,
        timeoutMs: options.timeoutMs,
        bearerToken,
        onRetry: ({ attempt, delayMs, error }) => {
          const note = `prometheus: attempt ${attempt} failed (${error.message}); retrying`;
          if (noted.has(note)) return;
          noted.add(note);
          console.error(`${note} in ${Math.round(delayMs)} ms`);
        },
      });
      const analysis = await analyzeCanary({ client, ...options });
      console.log(
        options.json
          ? JSON.stringify(canaryReportJson(analysis, prometheus), null, 2)
          : renderCanaryReport(analysis, prometheus),
      );
      process.exitCode = canaryExitCodes[analysis.verdict];
    });
}
