import { median } from '../bench/stats';

/** Growth allowed for every process's RSS, and for a queue's Redis bytes once at its caps. */
export const maxGrowth = 0.05;

/** How much a series grew, robust to single spikes. */
export interface Growth {
  /** Median of the first `k` values. */
  start: number;
  /** Median of the last `k` values. */
  end: number;
  /** `end / start − 1` (0.05 = 5 %); NaN with fewer than 6 values. */
  growth: number;
  k: number;
}

/**
 * Growth of a series sampled at a steady pace: the median of its last third against the median
 * of its first third (k = ⌈n / 3⌉, at least 3). A median is moved by no single spike or dip; a
 * third of a soak's post-warm-up period (160 s of 8 min) spans at least one whole GC cycle of a
 * Node process, whose RSS rises for a minute or two and then drops by up to 20 % — with a fifth,
 * where in that sawtooth each window fell decided the figure. A steady growth of g over the
 * period reads as ⅔ g (the two windows' middles are two thirds apart).
 */
export function medianGrowth(values: readonly number[]): Growth {
  const k = Math.max(3, Math.ceil(values.length / 3));
  if (values.length < 6) return { start: Number.NaN, end: Number.NaN, growth: Number.NaN, k };
  const start = median(values.slice(0, k));
  const end = median(values.slice(-k));
  return { start, end, growth: end / start - 1, k };
}
