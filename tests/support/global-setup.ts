import { randomBytes } from 'node:crypto';
import { dropTestSchemas } from '@agentry/db/testing';
import { removeCliBundle } from '../../apps/cli/test/support/cli-bundle';

/**
 * Once per test run: name the run (test schemas carry its token, see createTestDatabase), and at
 * its end drop the Postgres schemas its test files made — not those of another run going on.
 */
export default function setup() {
  process.env.AGENTRY_TEST_RUN ??= `r${randomBytes(3).toString('hex')}`;
  return async function teardown() {
    await dropTestSchemas();
    await removeCliBundle();
  };
}
