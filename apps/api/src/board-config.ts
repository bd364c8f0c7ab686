import { AppError } from '@agentry/schema';
import type { BoardRole } from './board-auth';

/** One basic-auth user of Bull Board, as configured. */
export interface BoardUserConfig {
  name: 'viewer' | 'operator' | 'admin';
  role: BoardRole;
  /** A literal (development) or a secret reference. */
  password: string;
  /** The variable it was read from, to name it when its reference does not resolve. */
  variable: string;
}

/** Bull Board's users (none: the board is off) and the deprecated settings in use. */
export interface BoardConfig {
  users: BoardUserConfig[];
  /** One message per deprecated setting in use, logged as a warning at start. */
  deprecated: string[];
}

/**
 * Pure: Bull Board's users from the `AGENTRY_BOARD_*` variables. `AGENTRY_BOARD_PASSWORD` is kept
 * so old configurations start and behave as before: its user `admin` is a viewer unless
 * `AGENTRY_BOARD_WRITABLE=true` makes it an operator. Throws `AppError('VALIDATION')` when a
 * viewer's password is also an operator's.
 */
export function toBoardConfig(env: {
  viewerPassword: string | undefined;
  operatorPassword: string | undefined;
  legacyPassword: string | undefined;
  writable: boolean;
}): BoardConfig {
  const users: BoardUserConfig[] = [];
  const add = (password: string | undefined, user: Omit<BoardUserConfig, 'password'>) => {
    if (password) users.push({ ...user, password });
  };
  add(env.viewerPassword, {
    name: 'viewer',
    role: 'viewer',
    variable: 'AGENTRY_BOARD_VIEWER_PASSWORD',
  });
  add(env.operatorPassword, {
    name: 'operator',
    role: 'operator',
    variable: 'AGENTRY_BOARD_OPERATOR_PASSWORD',
  });
  add(env.legacyPassword, {
    name: 'admin',
    role: env.writable ? 'operator' : 'viewer',
    variable: 'AGENTRY_BOARD_PASSWORD',
  });

  for (const viewer of users.filter((u) => u.role === 'viewer')) {
    const operator = users.find((u) => u.role === 'operator' && u.password === viewer.password);
    if (operator) {
      throw new AppError(
        'VALIDATION',
        `invalid configuration: ${viewer.variable} and ${operator.variable} must differ (a viewer could act as an operator)`,
      );
    }
  }

  const deprecated: string[] = [];
  if (env.legacyPassword) {
    deprecated.push(
      'AGENTRY_BOARD_PASSWORD (Bull Board user "admin") is deprecated: set AGENTRY_BOARD_VIEWER_PASSWORD and AGENTRY_BOARD_OPERATOR_PASSWORD',
    );
  }
  if (env.writable) {
    deprecated.push(
      'AGENTRY_BOARD_WRITABLE is deprecated: the operator role (AGENTRY_BOARD_OPERATOR_PASSWORD) may act on jobs, the viewer role never',
    );
  }
  return { users, deprecated };
}
