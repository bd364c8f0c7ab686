import type { DoctorContext } from './doctor-context';

/** `skip`: not checked because what it needs (Redis, Postgres) already failed its own check. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** What one check found, and for `warn`/`fail` the concrete remedy. */
export interface Finding {
  status: CheckStatus;
  finding: string;
  fix?: string;
}

/** A finding under the name of the check that made it. */
export interface CheckResult extends Finding {
  check: string;
}

/**
 * One doctor check. `run` may throw: the runner turns a throw or a timeout into a `fail`. It
 * should stop work when `signal` aborts (the runner has given up on it).
 */
export interface DoctorCheck {
  name: string;
  run(ctx: DoctorContext, signal: AbortSignal): Promise<Finding>;
}

export const pass = (finding: string): Finding => ({ status: 'pass', finding });
export const warn = (finding: string, fix: string): Finding => ({ status: 'warn', finding, fix });
export const fail = (finding: string, fix: string): Finding => ({ status: 'fail', finding, fix });
export const skip = (finding: string): Finding => ({ status: 'skip', finding });
