import type { Expr } from './ast';

/** Calls `visit` on `expr` and every expression below it, parents first. */
export function walkExpr(expr: Expr, visit: (e: Expr) => void): void {
  visit(expr);
  switch (expr.type) {
    case 'matrix':
      walkExpr(expr.selector, visit);
      return;
    case 'call':
      for (const arg of expr.args) walkExpr(arg, visit);
      return;
    case 'aggregate':
      if (expr.param !== undefined) walkExpr(expr.param, visit);
      walkExpr(expr.expr, visit);
      return;
    case 'binary':
      walkExpr(expr.lhs, visit);
      walkExpr(expr.rhs, visit);
      return;
    case 'unary':
      walkExpr(expr.expr, visit);
      return;
    default:
      return;
  }
}
