import { dropTestSchemas } from '@agentry/db/testing';

/** Once per test run: drop the Postgres schemas the test files made (see dropTestSchemas). */
export default function setup() {
  return async function teardown() {
    await dropTestSchemas();
  };
}
