/** A label set; the metric name is the label `__name__`. */
export type Labels = Readonly<Record<string, string>>;

/** One float sample: `t` in milliseconds from the start of the recording. */
export interface Sample {
  readonly t: number;
  readonly v: number;
}

/** A recorded sample; `stale` marks a staleness marker (the series ended at `t`). */
export interface StoredSample extends Sample {
  readonly stale?: true;
}

/** A recorded series, its samples in time order. */
export interface Series {
  readonly labels: Labels;
  readonly samples: readonly StoredSample[];
}

/** One element of an instant vector. */
export interface VectorSample {
  readonly labels: Labels;
  readonly v: number;
}

/** The value of an expression at one evaluation time. */
export type Value =
  | { readonly kind: 'scalar'; readonly v: number }
  | { readonly kind: 'string'; readonly s: string }
  | { readonly kind: 'vector'; readonly samples: readonly VectorSample[] }
  | { readonly kind: 'matrix'; readonly series: readonly Series[] };
