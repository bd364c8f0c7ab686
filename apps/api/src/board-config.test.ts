import { describe, expect, it } from 'vitest';
import { toBoardConfig } from './board-config';

const none = {
  viewerPassword: undefined,
  operatorPassword: undefined,
  legacyPassword: undefined,
  writable: false,
};

describe('toBoardConfig', () => {
  it('has no users, so no board, when no board password is set (whatever else is)', () => {
    expect(toBoardConfig(none)).toEqual({ users: [], deprecated: [] });
    expect(toBoardConfig({ ...none, viewerPassword: '' }).users).toEqual([]);
  });

  it('gives each role its own user; a password may be a secret reference', () => {
    const { users, deprecated } = toBoardConfig({
      ...none,
      viewerPassword: 'v-pass',
      operatorPassword: 'vault://kv/agentry/board#operator',
    });
    expect(users).toEqual([
      {
        name: 'viewer',
        role: 'viewer',
        password: 'v-pass',
        variable: 'AGENTRY_BOARD_VIEWER_PASSWORD',
      },
      {
        name: 'operator',
        role: 'operator',
        password: 'vault://kv/agentry/board#operator',
        variable: 'AGENTRY_BOARD_OPERATOR_PASSWORD',
      },
    ]);
    expect(deprecated).toEqual([]);
  });

  it('keeps AGENTRY_BOARD_PASSWORD working as user admin: a viewer, an operator when writable; deprecated', () => {
    const readOnly = toBoardConfig({ ...none, legacyPassword: 'old' });
    expect(readOnly.users).toEqual([
      { name: 'admin', role: 'viewer', password: 'old', variable: 'AGENTRY_BOARD_PASSWORD' },
    ]);
    expect(readOnly.deprecated).toEqual([expect.stringMatching(/AGENTRY_BOARD_PASSWORD/)]);
    const writable = toBoardConfig({ ...none, legacyPassword: 'old', writable: true });
    expect(writable.users[0]?.role).toBe('operator');
    expect(writable.deprecated).toHaveLength(2);
    // AGENTRY_BOARD_WRITABLE alone still parses (old configurations start) and grants nothing.
    expect(toBoardConfig({ ...none, writable: true }).users).toEqual([]);
  });

  it('refuses a viewer password that is also an operator password', () => {
    expect(() =>
      toBoardConfig({ ...none, viewerPassword: 'same', operatorPassword: 'same' }),
    ).toThrow(/AGENTRY_BOARD_VIEWER_PASSWORD and AGENTRY_BOARD_OPERATOR_PASSWORD must differ/);
    expect(() =>
      toBoardConfig({ ...none, viewerPassword: 'same', legacyPassword: 'same', writable: true }),
    ).toThrow(/must differ/);
  });
});
