import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // `*.redis.test.ts` need a real Redis: they exist only in the run with TEST_REDIS_URL, so no run reports skipped tests.
    exclude: [...configDefaults.exclude, ...(process.env.TEST_REDIS_URL ? [] : ["**/*.redis.test.ts"])],
    // Each file opens its own database (PGlite boots in seconds); two workers keep memory in check.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
