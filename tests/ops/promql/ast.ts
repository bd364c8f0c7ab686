/** The expression tree {@link parseExpr} builds: the PromQL subset {@link evaluate} knows. */
export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | Call
  | Aggregate
  | Binary
  | Unary;

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

export interface NumberLiteral {
  readonly type: 'number';
  readonly value: number;
}

export interface StringLiteral {
  readonly type: 'string';
  readonly value: string;
}

/** `name{matchers} offset d`; the metric name is a `__name__` matcher. */
export interface VectorSelector {
  readonly type: 'vector';
  readonly matchers: readonly Matcher[];
  readonly offsetMs: number;
}

/** `selector[range]`, the offset on its selector. */
export interface MatrixSelector {
  readonly type: 'matrix';
  readonly selector: VectorSelector;
  readonly rangeMs: number;
}

export interface Call {
  readonly type: 'call';
  readonly fn: string;
  readonly args: readonly Expr[];
}

export interface Grouping {
  readonly mode: 'by' | 'without';
  readonly labels: readonly string[];
}

export interface Aggregate {
  readonly type: 'aggregate';
  readonly op: string;
  readonly grouping: Grouping | undefined;
  readonly param: Expr | undefined;
  readonly expr: Expr;
}

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2';
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

/** `on (labels)` / `ignoring (labels)`; group_left/group_right are not supported. */
export interface VectorMatching {
  readonly mode: 'on' | 'ignoring';
  readonly labels: readonly string[];
}

export interface Binary {
  readonly type: 'binary';
  readonly op: BinaryOp;
  readonly returnBool: boolean;
  readonly matching: VectorMatching | undefined;
  readonly lhs: Expr;
  readonly rhs: Expr;
}

export interface Unary {
  readonly type: 'unary';
  readonly op: '+' | '-';
  readonly expr: Expr;
}
