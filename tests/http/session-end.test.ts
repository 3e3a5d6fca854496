import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAdmin } from "../../server/cli/run-admin.ts";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { jsonOf, startTestApp, type TErrorBody, type TTestApp } from "../support/test-app.ts";
import { stringMatching } from "../support/matchers.ts";

// The admin CLI ends sessions through the database, so this holds whichever store keeps them:
// memory here, Redis in the run with TEST_REDIS_URL.
let app: TTestApp;
let seed: TSeededWorkspace;
beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace({ name: "Acme", roles: ["MANAGER"] });
});
afterAll(() => app?.close());

async function admin(...argv: string[]) {
  let stderr = "";
  const code = await runAdmin(argv, {
    db: app.db,
    stdout: { write: () => true },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stderr };
}

const me = (cookie: string) => fetch(`${app.baseUrl}/api/auth/me`, { headers: { cookie } });
const meOverTrpc = (cookie: string) => fetch(`${app.baseUrl}/api/trpc/auth.me`, { headers: { cookie } });

function recordOne(cookie: string) {
  return fetch(`${app.baseUrl}/api/tracking/server-events?workspaceId=${seed.workspace.id}`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify({ siteId: seed.site.id, events: [{ type: "signup", visitorId: "v_end" }] }),
  });
}

describe("ending a user's sessions from the admin CLI", () => {
  it("user password ends every session of the user on both transports; the new password logs in", async () => {
    const user = seed.members.MANAGER!;
    const first = await app.login(user.email, user.password);
    const second = await app.login(user.email, user.password);
    const bystander = await app.login(seed.owner.email, seed.owner.password);
    expect((await me(first)).status).toBe(200);

    expect(await admin("user", "password", "--email", user.email, "--password", "a-brand-new-password")).toEqual({
      code: 0,
      stderr: "",
    });

    const rest = await me(first);
    const trpc = await meOverTrpc(second);
    expect([rest.status, trpc.status]).toEqual([401, 401]);
    const restBody = await jsonOf<TErrorBody>(rest);
    expect(restBody.data).toMatchObject({ reason: "UNAUTHENTICATED", requestId: stringMatching(/^req_/) });
    expect(restBody.message).toMatch(/session has ended/);
    expect((await jsonOf<{ error: TErrorBody }>(trpc)).error.data.reason).toBe("UNAUTHENTICATED");
    expect((await recordOne(first)).status).toBe(401);
    expect((await me(bystander)).status).toBe(200);

    await expect(app.login(user.email, user.password)).rejects.toThrow(/answered 401/);
    const fresh = await app.login(user.email, "a-brand-new-password");
    expect((await me(fresh)).status).toBe(200);
    user.password = "a-brand-new-password";
  });

  it("session revoke --email logs the user out everywhere and keeps the password", async () => {
    const cookies = [
      await app.login(seed.owner.email, seed.owner.password),
      await app.login(seed.owner.email, seed.owner.password),
    ];
    expect(await admin("session", "revoke", "--email", seed.owner.email)).toEqual({ code: 0, stderr: "" });
    for (const cookie of cookies) expect((await me(cookie)).status).toBe(401);
    const again = await app.login(seed.owner.email, seed.owner.password);
    expect((await me(again)).status).toBe(200);
    expect((await recordOne(again)).status).toBe(200);
  });

  it("a session refused once stays refused (it is removed from the store)", async () => {
    const cookie = await app.login(seed.owner.email, seed.owner.password);
    expect(await admin("session", "revoke", "--email", seed.owner.email)).toMatchObject({ code: 0 });
    expect((await jsonOf<TErrorBody>(await me(cookie))).message).toMatch(/session has ended/);
    // Gone from the store: the cookie, still ours, names a session that has ended.
    expect((await jsonOf<TErrorBody>(await me(cookie))).message).toMatch(/^Your session has expired or was ended/);
  });

  it("member remove takes away access to the workspace at once, without logging the user out", async () => {
    const user = seed.members.MANAGER!;
    const cookie = await app.login(user.email, user.password);
    expect((await recordOne(cookie)).status).toBe(200);
    expect(await admin("member", "remove", "--workspace", seed.workspace.id, "--email", user.email)).toEqual({
      code: 0,
      stderr: "",
    });
    const refused = await recordOne(cookie);
    expect(refused.status).toBe(403);
    expect((await jsonOf<TErrorBody>(refused)).data.reason).toBe("WORKSPACE_FORBIDDEN");
    expect((await me(cookie)).status).toBe(200);
  });
});

describe("what a refused session is told", () => {
  it("a cookie this server never signed is told to log in; one whose session is gone is told so", async () => {
    const cookie = await app.login(seed.owner.email, seed.owner.password);
    const [name, value = ""] = cookie.split("=");
    const forged = `${name}=${value.slice(0, -3)}abc`;
    const forgedBody = await jsonOf<TErrorBody>(await me(forged));
    expect(forgedBody.message).toMatch(/^Log in first/);
    expect(forgedBody.data.requestId).toEqual(stringMatching(/^req_/));

    // Logged out elsewhere (or expired: either way the store no longer holds the session it names).
    const logout = await fetch(`${app.baseUrl}/api/auth/logout`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: "{}",
    });
    expect(logout.status).toBe(200);
    const ended = await jsonOf<TErrorBody>(await me(cookie));
    expect(ended.data.reason).toBe("UNAUTHENTICATED");
    expect(ended.message).toMatch(/^Your session has expired or was ended: log in again/);
    const overTrpc = await jsonOf<{ error: { message: string } }>(await meOverTrpc(cookie));
    expect(overTrpc.error.message).toMatch(/^Your session has expired/);
  });
});

describe("logout from curl", () => {
  it("a logout with no body nor content type ends the session; a cross-site one is refused", async () => {
    const cookie = await app.login(seed.owner.email, seed.owner.password);
    const crossSite = await fetch(`${app.baseUrl}/api/auth/logout`, {
      method: "POST",
      headers: { cookie, origin: "https://evil.example" },
    });
    expect(crossSite.status).toBe(403);
    expect((await jsonOf<TErrorBody>(crossSite)).data.reason).toBe("CROSS_SITE_REQUEST");
    expect((await me(cookie)).status).toBe(200);

    const res = await fetch(`${app.baseUrl}/api/auth/logout`, { method: "POST", headers: { cookie } });
    expect(res.status).toBe(200);
    expect((await me(cookie)).status).toBe(401);
    // A form-encoded body is still refused: a plain HTML form cannot log anyone out either.
    const form = await fetch(`${app.baseUrl}/api/auth/logout`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: "a=1",
    });
    expect(form.status).toBe(415);
  });
});
