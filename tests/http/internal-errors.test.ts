import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { jsonOf, startTestApp, type TErrorBody, type TTestApp } from "../support/test-app.ts";

// Development mode is where internal messages used to leak: Prisma's message names source files
// and lines. Here the database lacks a column the code reads, so every session check fails inside Prisma.
let app: TTestApp;
let seed: TSeededWorkspace;
let cookie: string;
const logLines: string[] = [];

beforeAll(async () => {
  app = await startTestApp({
    config: { NODE_ENV: "development", LOG_LEVEL: "error" },
    onLogLine: (line) => logLines.push(line),
  });
  seed = await app.seedWorkspace();
  cookie = await app.login(seed.owner.email, seed.owner.password);
  await app.db.prisma.$executeRawUnsafe(
    `ALTER TABLE users RENAME COLUMN session_generation TO session_generation_gone`,
  );
});
afterAll(() => app?.close());

describe("an internal error in development mode", () => {
  it.each([
    ["REST", "/api/auth/me", (body: TErrorBody | { error: TErrorBody }) => body as TErrorBody],
    ["tRPC", "/api/trpc/auth.me", (body: TErrorBody | { error: TErrorBody }) => (body as { error: TErrorBody }).error],
  ])(
    "%s: 500 with a generic message and the request id; the details only in the log",
    async (_transport, url, errorOf) => {
      const res = await fetch(`${app.baseUrl}${url}`, { headers: { cookie } });
      expect(res.status).toBe(500);
      const text = await res.clone().text();
      const error = errorOf(await jsonOf<TErrorBody | { error: TErrorBody }>(res));
      const requestId = res.headers.get("x-request-id");
      expect(requestId).toMatch(/^req_/);
      expect(error.message).toBe("Internal server error");
      expect(error.data).toMatchObject({ httpStatus: 500, reason: "INTERNAL", issues: [], requestId });
      expect(text).not.toMatch(/prisma|session_generation|\.ts:\d+|\/work\/|stack/i);

      const logged = logLines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.requestId === requestId);
      expect(logged).toMatchObject({ level: "error", msg: "procedure failed", path: "auth.me" });
      expect(JSON.stringify(logged)).toMatch(/session_generation/);
    },
  );
});
