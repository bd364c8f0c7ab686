import { z } from 'zod';

export const RunState = z.enum([
  'pending',
  'awaiting_approval',
  'running',
  'succeeded',
  'failed',
  'rejected',
  'cancelled',
]);
export type RunState = z.infer<typeof RunState>;

/** Runs in these states never change again. */
export const terminalRunStates: readonly RunState[] = [
  'succeeded',
  'failed',
  'rejected',
  'cancelled',
];
export const isTerminalRunState = (state: RunState): boolean => terminalRunStates.includes(state);

export const StepState = z.enum([
  'pending',
  'queued',
  'running',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
  'compensated',
]);
export type StepState = z.infer<typeof StepState>;

export const RiskLevel = z.enum(['low', 'medium', 'high', 'critical']);
export type RiskLevel = z.infer<typeof RiskLevel>;
