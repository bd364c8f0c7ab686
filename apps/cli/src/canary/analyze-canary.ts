import { toError } from '@agentry/schema';
import type { CanaryThresholds } from './canary-thresholds';
import { decideCanary, type CanaryDecision } from './decide-canary';
import { measureTrack } from './measure-track';
import type { PrometheusClient } from './prometheus-client';
import type { TrackMeasurement } from './track-measurement';
import { trackQueries, type TrackQueries } from './track-queries';

/** What {@link analyzeCanary} compares. */
export interface CanaryAnalysisInput {
  client: PrometheusClient;
  /** Label matchers of the canary's series, e.g. `track="canary"`. */
  canarySelector: string;
  /** Label matchers of the baseline's (stable) series, e.g. `track="stable"`. */
  baselineSelector: string;
  /** Prometheus duration of the analysis window, e.g. `5m`. */
  window: string;
  /** End of the window; every query is evaluated at this instant. */
  at: Date;
  thresholds: CanaryThresholds;
}

/** One track as analysed: its selector, the queries sent and what they measured. */
export interface AnalysedTrack {
  selector: string;
  queries: TrackQueries;
  measurement: TrackMeasurement;
}

/** The result of {@link analyzeCanary}. */
export interface CanaryAnalysis extends CanaryDecision {
  window: string;
  at: Date;
  thresholds: CanaryThresholds;
  canary: AnalysedTrack;
  baseline: AnalysedTrack;
}

/**
 * Measure the canary and the baseline over the window (all queries concurrently, at one instant)
 * and decide. Rejects with the Prometheus client's `AppError` when any query fails for good; the
 * other queries are aborted then.
 */
export async function analyzeCanary(input: CanaryAnalysisInput): Promise<CanaryAnalysis> {
  const controller = new AbortController();
  const run = (promql: string) => input.client.query(promql, input.at, controller.signal);
  const canaryQueries = trackQueries(input.canarySelector, input.window);
  const baselineQueries = trackQueries(input.baselineSelector, input.window);
  let canary: TrackMeasurement;
  let baseline: TrackMeasurement;
  try {
    [canary, baseline] = await Promise.all([
      measureTrack(run, canaryQueries),
      measureTrack(run, baselineQueries),
    ]);
  } catch (caught) {
    controller.abort(toError(caught));
    throw caught;
  }
  return {
    ...decideCanary(canary, baseline, input.thresholds),
    window: input.window,
    at: input.at,
    thresholds: input.thresholds,
    canary: { selector: input.canarySelector, queries: canaryQueries, measurement: canary },
    baseline: { selector: input.baselineSelector, queries: baselineQueries, measurement: baseline },
  };
}
