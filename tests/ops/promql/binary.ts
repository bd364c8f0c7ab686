import type { ArithmeticOp, BinaryOp, ComparisonOp, VectorMatching } from './ast';
import { dropLabels, dropName, formatLabels, keepLabels, labelsKey, METRIC_NAME } from './labels';
import type { Labels, Value, VectorSample } from './types';

const arithmetic: Record<ArithmeticOp, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
  '^': (a, b) => a ** b,
  atan2: (a, b) => Math.atan2(a, b),
};

const comparison: Record<ComparisonOp, (a: number, b: number) => boolean> = {
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '>': (a, b) => a > b,
  '<': (a, b) => a < b,
  '>=': (a, b) => a >= b,
  '<=': (a, b) => a <= b,
};

function isArithmetic(op: BinaryOp): op is ArithmeticOp {
  return op in arithmetic;
}

function isComparison(op: BinaryOp): op is ComparisonOp {
  return op in comparison;
}

/** What `lhs op rhs` computes for two values; `undefined` filters the element out. */
function combine(op: BinaryOp, a: number, b: number, returnBool: boolean, keep: number) {
  if (isArithmetic(op)) return arithmetic[op](a, b);
  if (!isComparison(op)) throw new Error(`${op} is not an arithmetic or comparison operator`);
  const holds = comparison[op](a, b);
  if (returnBool) return holds ? 1 : 0;
  return holds ? keep : undefined;
}

/** Labels two vector elements are matched on: `on (…)`, else all but `ignoring (…)` and the name. */
function signature(labels: Labels, matching: VectorMatching | undefined): string {
  if (matching?.mode === 'on') return labelsKey(keepLabels(labels, matching.labels));
  return labelsKey(dropLabels(labels, [...(matching?.labels ?? []), METRIC_NAME]));
}

/**
 * `lhs op rhs` for arithmetic, comparison (filtering, or 0/1 with `bool`) and set operators, with
 * one-to-one vector matching (`on`/`ignoring`; no `group_left`/`group_right`). As in Prometheus:
 * arithmetic and `bool` drop the metric name; a filtering comparison keeps the left side's
 * element; a right side with two elements of one signature is an error (many-to-many).
 */
export function binary(
  op: BinaryOp,
  lhs: Value,
  rhs: Value,
  returnBool: boolean,
  matching: VectorMatching | undefined,
): Value {
  if (lhs.kind === 'scalar' && rhs.kind === 'scalar') {
    if (isComparison(op) && !returnBool) throw new Error('comparisons between scalars need bool');
    const v = combine(op, lhs.v, rhs.v, true, lhs.v);
    return { kind: 'scalar', v: v ?? NaN };
  }
  if (lhs.kind === 'vector' && rhs.kind === 'scalar') {
    return vectorScalar(op, lhs.samples, (s) => [s.v, rhs.v], returnBool);
  }
  if (lhs.kind === 'scalar' && rhs.kind === 'vector') {
    return vectorScalar(op, rhs.samples, (s) => [lhs.v, s.v], returnBool);
  }
  if (lhs.kind === 'vector' && rhs.kind === 'vector') {
    if (op === 'and' || op === 'or' || op === 'unless') {
      return { kind: 'vector', samples: setOp(op, lhs.samples, rhs.samples, matching) };
    }
    return {
      kind: 'vector',
      samples: vectorVector(op, lhs.samples, rhs.samples, returnBool, matching),
    };
  }
  throw new Error(`${op} between ${lhs.kind} and ${rhs.kind} is not supported`);
}

function vectorScalar(
  op: BinaryOp,
  samples: readonly VectorSample[],
  operands: (s: VectorSample) => [number, number],
  returnBool: boolean,
): Value {
  if (!isArithmetic(op) && !isComparison(op)) throw new Error(`${op} needs two vectors`);
  const out: VectorSample[] = [];
  for (const s of samples) {
    const [a, b] = operands(s);
    const v = combine(op, a, b, returnBool, s.v);
    if (v === undefined) continue;
    out.push({ labels: isArithmetic(op) || returnBool ? dropName(s.labels) : s.labels, v });
  }
  return { kind: 'vector', samples: out };
}

function setOp(
  op: 'and' | 'or' | 'unless',
  lhs: readonly VectorSample[],
  rhs: readonly VectorSample[],
  matching: VectorMatching | undefined,
): VectorSample[] {
  const right = new Set(rhs.map((s) => signature(s.labels, matching)));
  if (op === 'and') return lhs.filter((s) => right.has(signature(s.labels, matching)));
  if (op === 'unless') return lhs.filter((s) => !right.has(signature(s.labels, matching)));
  const left = new Set(lhs.map((s) => signature(s.labels, matching)));
  return [...lhs, ...rhs.filter((s) => !left.has(signature(s.labels, matching)))];
}

function vectorVector(
  op: BinaryOp,
  lhs: readonly VectorSample[],
  rhs: readonly VectorSample[],
  returnBool: boolean,
  matching: VectorMatching | undefined,
): VectorSample[] {
  const right = new Map<string, VectorSample>();
  for (const s of rhs) {
    const sig = signature(s.labels, matching);
    if (right.has(sig)) {
      throw new Error(`many-to-many matching not allowed: duplicate ${formatLabels(s.labels)}`);
    }
    right.set(sig, s);
  }
  const seen = new Set<string>();
  const out: VectorSample[] = [];
  for (const l of lhs) {
    const sig = signature(l.labels, matching);
    const r = right.get(sig);
    if (r === undefined) continue;
    if (seen.has(sig)) {
      throw new Error(`many-to-one matching must be explicit: ${formatLabels(l.labels)}`);
    }
    seen.add(sig);
    const v = combine(op, l.v, r.v, returnBool, l.v);
    if (v === undefined) continue;
    let labels = isArithmetic(op) || returnBool ? dropName(l.labels) : l.labels;
    if (matching?.mode === 'on') labels = keepLabels(labels, matching.labels);
    if (matching?.mode === 'ignoring') labels = dropLabels(labels, matching.labels);
    out.push({ labels, v });
  }
  return out;
}
