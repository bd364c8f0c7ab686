import { fail, pass, skip, warn, type Finding } from './doctor-check';

/** One remote clock read: the remote time minus the local midpoint of the call's round trip. */
export interface ClockSample {
  source: 'Redis' | 'Postgres';
  skewMs: number;
}

/** @default warn above 1 s, fail above 5 s */
export interface SkewThresholds {
  warnMs: number;
  failMs: number;
}

const signed = (ms: number): string => {
  const rounded = Math.round(ms); // no "-0.000 s"
  return `${rounded < 0 ? '-' : '+'}${(Math.abs(rounded) / 1_000).toFixed(3)} s`;
};
const ahead = (ms: number): string =>
  `${(Math.abs(ms) / 1_000).toFixed(1)} s ${ms >= 0 ? 'ahead' : 'behind'}`;

/**
 * Judge the clocks: the worst skew decides the status, and the finding says which clock is off.
 * When Redis and Postgres agree with each other but not with this host, it is this host's clock;
 * when only one of them disagrees, it is that one. Pure.
 */
export function judgeClockSkew(
  samples: readonly ClockSample[],
  thresholds: SkewThresholds = { warnMs: 1_000, failMs: 5_000 },
): Finding {
  if (samples.length === 0) return skip('not checked: neither Redis nor Postgres answered');
  const measured = `${samples.map((s) => `${s.source} ${signed(s.skewMs)}`).join(', ')} against this host`;
  const worst = Math.max(...samples.map((s) => Math.abs(s.skewMs)));
  if (worst <= thresholds.warnMs) return pass(measured);

  const off = samples.filter((s) => Math.abs(s.skewMs) > thresholds.warnMs);
  const [first, second] = samples;
  let who: string;
  let fix: string;
  if (
    first &&
    second &&
    off.length === 2 &&
    Math.abs(first.skewMs - second.skewMs) <= thresholds.warnMs
  ) {
    // Both remotes agree: the odd one out is this host (its clock runs opposite to their skew).
    who = `this host's clock is ${ahead(-(first.skewMs + second.skewMs) / 2)} (Redis and Postgres agree)`;
    fix = "sync this host's clock with NTP (chrony or systemd-timesyncd)";
  } else if (second && off.length === 1 && off[0]) {
    who = `${off[0].source}'s clock is ${ahead(off[0].skewMs)} (the other agrees with this host)`;
    fix = `sync the clock of ${off[0].source}'s host with NTP`;
  } else {
    who = `${off.map((s) => s.source).join(' and ')} and this host disagree; which is off cannot be told from here`;
    fix = 'sync every host (this one, Redis, Postgres) with NTP';
  }
  const remedy = `${fix} (skewed clocks misplace delayed jobs and retries, stall detection, approval expiry and timings)`;
  return worst > thresholds.failMs
    ? fail(`${measured}: ${who}`, remedy)
    : warn(`${measured}: ${who}`, remedy);
}
