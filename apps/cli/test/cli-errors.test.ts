import { describe, expect, it } from 'vitest';
import { spawnCli } from './support/cli-fleet';

/** What a user sees when the command line or the API is wrong: the real entry point, as a process. */
describe.concurrent('agentry errors', () => {
  it('prints the help for an unknown command and exits non-zero', async () => {
    const { stdout, stderr, exitCode } = await spawnCli(['subimt', 'echo 1 step'], {});
    expect(exitCode).not.toBe(0);
    expect(stderr).toMatch(/unknown command 'subimt'/);
    expect(stderr).toMatch(/Did you mean submit\?/);
    expect(stderr).toMatch(/Usage: agentry/);
    expect(stderr).toMatch(/submit \[options\] <text\.\.\.>/);
    expect(stdout).toBe('');
  });

  it('says clearly that the API cannot be reached, and exits 1', async () => {
    const { stderr, exitCode } = await spawnCli(['runs', 'list'], {
      AGENTRY_API_URL: 'http://127.0.0.1:1',
    });
    expect(exitCode).toBe(1);
    expect(stderr).toMatch(
      /^agentry: \[UNAVAILABLE\] cannot reach the agentry API at http:\/\/127\.0\.0\.1:1/,
    );
    expect(stderr).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });
});
