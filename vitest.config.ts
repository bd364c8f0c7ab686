import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      '{apps,packages}/*/src/**/*.test.ts',
      '{apps,packages}/*/test/**/*.test.ts',
      'tests/**/*.test.ts',
    ],
    // The fault suite runs on its own (`pnpm test:chaos`, vitest.chaos.config.ts).
    exclude: [...configDefaults.exclude, 'tests/chaos/**/*.chaos.test.ts'],
    // Integration tests share one Redis and one Postgres; each file isolates itself by prefix/schema.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['./tests/support/global-setup.ts'],
    reporters: ['default', './tests/support/summary-reporter.ts'],
  },
});
