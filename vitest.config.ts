import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/support/global-setup.ts"],
    // `*.redis.test.ts` need a real Redis, `*.pg.test.ts` a real PostgreSQL: they exist only in the run
    // with TEST_REDIS_URL / TEST_DATABASE_URL, so no run reports skipped tests.
    exclude: [
      ...configDefaults.exclude,
      ...(process.env.TEST_REDIS_URL ? [] : ["**/*.redis.test.ts"]),
      ...(process.env.TEST_DATABASE_URL ? [] : ["**/*.pg.test.ts"]),
    ],
    // Each file opens its own database (PGlite boots in seconds); two workers keep memory in check.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
