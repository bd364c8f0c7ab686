import { parser } from '@prometheus-io/lezer-promql';
import type {
  BinaryOp,
  Expr,
  Grouping,
  Matcher,
  MatchOp,
  VectorMatching,
  VectorSelector,
} from './ast';
import { parseDuration } from './duration';
import { METRIC_NAME } from './labels';
import { unquote } from './unquote';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** PromQL the official grammar rejects, or that this evaluator does not support. */
export class PromQLError extends Error {
  override readonly name = 'PromQLError';
}

/**
 * Parses `source` with Prometheus's own grammar (`@prometheus-io/lezer-promql`, the parser of
 * the Prometheus web UI) and builds the subset {@link Expr} describes. Throws {@link PromQLError}
 * on a syntax error or on a construct outside the subset (subqueries, `@`, `group_left`, …).
 */
export function parseExpr(source: string): Expr {
  const tree = parser.parse(source);
  tree.iterate({
    enter(node) {
      if (node.type.isError) {
        throw new PromQLError(`syntax error at ${String(node.from)} in ${JSON.stringify(source)}`);
      }
    },
  });
  const [body, ...rest] = children(tree.topNode);
  if (body === undefined || rest.length > 0) throw new PromQLError(`not one expression: ${source}`);
  return build(body, source);
}

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child !== null; child = child.nextSibling) out.push(child);
  return out;
}

function nth(node: SyntaxNode, index: number): SyntaxNode {
  const found = children(node)[index];
  if (found === undefined) throw new PromQLError(`${node.name} without child ${String(index)}`);
  return found;
}

function one(node: SyntaxNode, name: string): SyntaxNode {
  const found = children(node).find((c) => c.name === name);
  if (found === undefined) throw new PromQLError(`${node.name} without ${name}`);
  return found;
}

function build(node: SyntaxNode, src: string): Expr {
  const text = (n: SyntaxNode) => src.slice(n.from, n.to);
  const expr = (n: SyntaxNode) => build(n, src);
  const kids = children(node);
  switch (node.name) {
    case 'ParenExpr':
      return expr(nth(node, 0));
    case 'NumberDurationLiteral':
      return { type: 'number', value: parseNumber(text(node)) };
    case 'StringLiteral':
      return { type: 'string', value: unquote(text(node)) };
    case 'VectorSelector':
      return selector(node, src);
    case 'MatrixSelector': {
      const rangeMs = parseDuration(text(one(node, 'DurationExpr')));
      return postfix(nth(node, 0), src, (operand) => {
        if (operand.type !== 'vector') {
          throw new PromQLError(`range of a non-selector: ${text(node)}`);
        }
        return { type: 'matrix', selector: operand, rangeMs };
      });
    }
    case 'OffsetExpr': {
      const offsetMs = parseDuration(text(one(node, 'OffsetDurationExpr')));
      return postfix(nth(node, 0), src, (operand) => {
        if (operand.type === 'vector') return { ...operand, offsetMs };
        if (operand.type === 'matrix') {
          return { ...operand, selector: { ...operand.selector, offsetMs } };
        }
        throw new PromQLError(`offset on a non-selector: ${text(node)}`);
      });
    }
    case 'FunctionCall':
      return {
        type: 'call',
        fn: text(one(node, 'FunctionIdentifier')),
        args: children(one(node, 'FunctionCallBody')).map(expr),
      };
    case 'AggregateExpr': {
      const args = children(one(node, 'FunctionCallBody')).map(expr);
      const modifier = kids.find((k) => k.name === 'AggregateModifier');
      const last = args[args.length - 1];
      if (last === undefined || args.length > 2) {
        throw new PromQLError(`bad aggregation ${text(node)}`);
      }
      return {
        type: 'aggregate',
        op: text(one(node, 'AggregateOp')).toLowerCase(),
        grouping: modifier === undefined ? undefined : grouping(modifier, src),
        param: args.length === 2 ? args[0] : undefined,
        expr: last,
      };
    }
    case 'BinaryExpr': {
      const [lhs, opNode] = kids;
      const rhs = kids[kids.length - 1];
      if (lhs === undefined || opNode === undefined || rhs === undefined) {
        throw new PromQLError(`bad binary expression ${text(node)}`);
      }
      const clause = kids.find((k) => k.name === 'MatchingModifierClause');
      return {
        type: 'binary',
        op: binaryOp(text(opNode).toLowerCase()),
        returnBool: kids.some((k) => k.name === 'BoolModifier'),
        matching: clause === undefined ? undefined : matching(clause, src),
        lhs: expr(lhs),
        rhs: expr(rhs),
      };
    }
    case 'UnaryExpr':
      return {
        type: 'unary',
        op: text(one(node, 'UnaryOp')) === '-' ? '-' : '+',
        expr: expr(nth(node, 1)),
      };
    default:
      throw new PromQLError(`unsupported here: ${node.name} (${text(node)})`);
  }
}

/**
 * Applies a postfix `[range]` or `offset` to the operand it belongs to. The lezer grammar hangs
 * them on the whole expression before them (`a unless b offset 5m` → `(a unless b) offset 5m`),
 * while Prometheus's parser gives them a higher precedence than any operator
 * (`a unless (b offset 5m)`): descend into the rightmost operand of binary and unary expressions
 * (not into parentheses, which Prometheus rejects there).
 */
function postfix(node: SyntaxNode, src: string, apply: (operand: Expr) => Expr): Expr {
  const kids = children(node);
  const last = kids[kids.length - 1];
  const built = build(node, src);
  if (built.type === 'binary' && node.name === 'BinaryExpr' && last !== undefined) {
    return { ...built, rhs: postfix(last, src, apply) };
  }
  if (built.type === 'unary' && node.name === 'UnaryExpr' && last !== undefined) {
    return { ...built, expr: postfix(last, src, apply) };
  }
  return apply(built);
}

function selector(node: SyntaxNode, src: string): VectorSelector {
  const text = (n: SyntaxNode) => src.slice(n.from, n.to);
  const matchers: Matcher[] = [];
  for (const kid of children(node)) {
    if (kid.name === 'Identifier') matchers.push({ name: METRIC_NAME, op: '=', value: text(kid) });
    if (kid.name !== 'LabelMatchers') continue;
    for (const m of children(kid)) {
      if (m.name === 'QuotedLabelName') {
        matchers.push({ name: METRIC_NAME, op: '=', value: unquote(text(m)) });
        continue;
      }
      const [name, op, value] = children(m);
      if (name === undefined || op === undefined || value === undefined) {
        throw new PromQLError(`bad matcher ${text(m)}`);
      }
      matchers.push({
        name: name.name === 'QuotedLabelName' ? unquote(text(name)) : text(name),
        op: text(op) as MatchOp,
        value: unquote(text(value)),
      });
    }
  }
  return { type: 'vector', matchers, offsetMs: 0 };
}

function labelList(node: SyntaxNode, src: string): string[] {
  return children(node).map((n) =>
    n.name === 'QuotedLabelName' ? unquote(src.slice(n.from, n.to)) : src.slice(n.from, n.to),
  );
}

function grouping(node: SyntaxNode, src: string): Grouping {
  const [kind, labels] = children(node);
  if (kind === undefined || labels === undefined) throw new PromQLError('bad by/without clause');
  return { mode: kind.name === 'Without' ? 'without' : 'by', labels: labelList(labels, src) };
}

function matching(node: SyntaxNode, src: string): VectorMatching {
  const [kind, labels, group] = children(node);
  if (group !== undefined) throw new PromQLError('group_left/group_right are not supported');
  if (kind === undefined || labels === undefined) throw new PromQLError('bad on/ignoring clause');
  return { mode: kind.name === 'On' ? 'on' : 'ignoring', labels: labelList(labels, src) };
}

const binaryOps: readonly string[] = [
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  'atan2',
  '==',
  '!=',
  '>',
  '<',
  '>=',
  '<=',
  'and',
  'or',
  'unless',
] satisfies readonly BinaryOp[];

function binaryOp(text: string): BinaryOp {
  if (!binaryOps.includes(text)) throw new PromQLError(`unknown binary operator ${text}`);
  return text as BinaryOp;
}

/** A number literal: float, hex, Inf, NaN, or (Prometheus 3) a duration in seconds. */
function parseNumber(text: string): number {
  const lower = text.toLowerCase();
  if (/^[+-]?inf$/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(lower)) return NaN;
  if (/^0x[0-9a-f]+$/.test(lower)) return parseInt(lower.slice(2), 16);
  const n = Number(text);
  return Number.isNaN(n) ? parseDuration(text) / 1_000 : n;
}
