import { TRPCError, type inferProcedureInput } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TDatabase } from "../../server/db/database.ts";
import type { AppRouter } from "../../server/trpc/router.ts";
import { seedWorkspace, type TSeededWorkspace } from "../support/fixtures.ts";
import { createTestDatabase } from "../support/test-database.ts";
import { createTestCaller, createTestDeps } from "../support/trpc.ts";

let db: TDatabase;
let seed: TSeededWorkspace;

beforeAll(async () => {
  db = await createTestDatabase();
  seed = await seedWorkspace(db.prisma, { name: "Acme", roles: ["MANAGER"] });
});
afterAll(() => db?.close());

describe("auth procedures through createCaller", () => {
  it("login signs the session in once and answers the user with roles", async () => {
    const { caller, session } = createTestCaller({ deps: createTestDeps(db) });
    const input: inferProcedureInput<AppRouter["auth"]["login"]> = {
      email: seed.members.MANAGER!.email,
      password: seed.members.MANAGER!.password,
    };
    const result = await caller.auth.login(input);
    expect(session).toMatchObject({ userId: seed.members.MANAGER!.id, signIns: 1 });
    expect(result.workspaces).toEqual([{ id: seed.workspace.id, name: "Acme", role: "MANAGER" }]);
  });

  it("me needs a session: UNAUTHORIZED without one, the user with one", async () => {
    const deps = createTestDeps(db);
    const anonymous = createTestCaller({ deps });
    const error = await anonymous.caller.auth.me({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCError);
    expect(error).toMatchObject({ code: "UNAUTHORIZED", cause: { code: "UNAUTHENTICATED" } });
    const { caller } = createTestCaller({ deps, userId: seed.owner.id });
    expect((await caller.auth.me({})).user.id).toBe(seed.owner.id);
  });

  it("a session whose user no longer exists is UNAUTHORIZED", async () => {
    const { caller } = createTestCaller({ deps: createTestDeps(db), userId: "usr_deleted" });
    await expect(caller.auth.me({})).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("wrong passwords are UNAUTHORIZED until the per-email budget is spent, then TOO_MANY_REQUESTS", async () => {
    const deps = createTestDeps(db, { LOGIN_MAX_FAILURES_PER_EMAIL: "2" });
    const { caller, session, headers } = createTestCaller({ deps });
    const attempt = () => caller.auth.login({ email: seed.owner.email, password: "wrong" });
    await expect(attempt()).rejects.toMatchObject({ code: "UNAUTHORIZED", cause: { code: "INVALID_CREDENTIALS" } });
    await expect(attempt()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(caller.auth.login({ email: seed.owner.email, password: seed.owner.password })).rejects.toMatchObject({
      code: "TOO_MANY_REQUESTS",
    });
    expect(Number(headers.get("retry-after"))).toBeGreaterThan(0);
    expect(session).toMatchObject({ userId: null, signIns: 0 });
  });

  it("logout signs out and is harmless without a session", async () => {
    const { caller, session } = createTestCaller({ deps: createTestDeps(db), userId: seed.owner.id });
    await expect(caller.auth.logout({})).resolves.toEqual({ ok: true });
    await expect(caller.auth.logout({})).resolves.toEqual({ ok: true });
    expect(session).toMatchObject({ userId: null, signOuts: 2 });
  });
});
