/** One cumulative bucket of a classic histogram: observations `<= upperBound`. */
export interface Bucket {
  readonly upperBound: number;
  readonly count: number;
}

/**
 * The `q`-quantile of one classic histogram, as Prometheus's `histogram_quantile` computes it
 * (promql/quantile.go `BucketQuantile`): linear interpolation inside the bucket the rank falls
 * in; NaN without a `+Inf` bucket, with fewer than two buckets or with no observation; the upper
 * bound of the highest finite bucket when the rank falls in `+Inf`. Counts are made monotonic
 * first. (Prometheus's tolerance for tiny floating-point deltas is left out.)
 */
export function bucketQuantile(q: number, input: readonly Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const merged = new Map<number, number>();
  for (const b of input) merged.set(b.upperBound, (merged.get(b.upperBound) ?? 0) + b.count);
  const buckets = [...merged]
    .map(([upperBound, count]) => ({ upperBound, count }))
    .sort((a, b) => a.upperBound - b.upperBound);
  const top = buckets[buckets.length - 1];
  if (top === undefined || top.upperBound !== Infinity || buckets.length < 2) return NaN;
  let max = -Infinity;
  for (const b of buckets) b.count = max = Math.max(max, b.count);
  if (top.count === 0) return NaN;
  let rank = q * top.count;
  let i = buckets.findIndex((b, index) => index < buckets.length - 1 && b.count >= rank);
  if (i === -1) i = buckets.length - 1;
  if (i === buckets.length - 1) return buckets[buckets.length - 2]?.upperBound ?? NaN;
  const bucket = buckets[i];
  if (bucket === undefined) return NaN;
  if (i === 0 && bucket.upperBound <= 0) return bucket.upperBound;
  let start = 0;
  let count = bucket.count;
  const below = buckets[i - 1];
  if (below !== undefined) {
    start = below.upperBound;
    count -= below.count;
    rank -= below.count;
  }
  return start + (bucket.upperBound - start) * (rank / count);
}
