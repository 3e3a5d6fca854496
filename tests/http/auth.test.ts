import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCookieJar, createDashboardClient } from "../../client/trpc-client.ts";
import type { AppRouter } from "../../server/trpc/router.ts";
import {
  addMember,
  createTestUser,
  createTestWorkspace,
  uniqueEmail,
  type TSeededWorkspace,
} from "../support/fixtures.ts";
import { jsonOf, sessionCookieOf, startTestApp, type TErrorBody, type TTestApp } from "../support/test-app.ts";
import type { TMeOutput } from "../../server/trpc/auth/me.types.ts";
import { trpcClient } from "../support/trpc.ts";
import { arrayContaining } from "../support/matchers.ts";

const EMAIL_LIMIT = 3;
const IP_LIMIT = 5;

let app: TTestApp;
let seed: TSeededWorkspace;
let ipCounter = 0;
/** Each test speaks from its own address (TRUST_PROXY=loopback), so per-IP budgets do not leak between tests. */
const freshIp = () => `198.51.100.${++ipCounter}`;

beforeAll(async () => {
  app = await startTestApp({
    config: {
      LOGIN_MAX_FAILURES_PER_EMAIL: String(EMAIL_LIMIT),
      LOGIN_MAX_FAILURES_PER_IP: String(IP_LIMIT),
      TRUST_PROXY: "loopback",
    },
  });
  seed = await app.seedWorkspace({ name: "Acme", roles: ["VIEW_ONLY"] });
});
afterAll(() => app?.close());

function postLogin(body: unknown, opts: { ip?: string; cookie?: string } = {}) {
  return fetch(`${app.baseUrl}/api/auth/login`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(opts.ip && { "x-forwarded-for": opts.ip }),
      ...(opts.cookie && { cookie: opts.cookie }),
    },
    body: JSON.stringify(body),
  });
}

function getMe(cookie?: string) {
  return fetch(`${app.baseUrl}/api/auth/me`, { headers: cookie ? { cookie } : {} });
}

/** The session id inside a signed `fse.sid=s%3A<id>.<signature>` cookie. */
function sessionIdOf(cookie: string): string {
  const id = decodeURIComponent(cookie.split("=")[1]!).match(/^s:([^.]+)\./)?.[1];
  if (!id) throw new Error(`not a signed session cookie: ${cookie}`);
  return id;
}

describe("REST /api/auth", () => {
  it("login answers the user with workspaces and sets an HttpOnly SameSite=Lax session cookie", async () => {
    const res = await postLogin({ email: seed.owner.email, password: seed.owner.password }, { ip: freshIp() });
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toEqual({
      user: { id: seed.owner.id, email: seed.owner.email, name: "Owner" },
      workspaces: [{ id: seed.workspace.id, name: "Acme", role: "ADMIN" }],
    });
    const lines = res.headers.getSetCookie().filter((l) => l.startsWith("fse.sid="));
    expect(lines).toHaveLength(1);
    const attributes = lines[0]!.split(";").map((a) => a.trim().toLowerCase());
    expect(attributes).toContain("httponly");
    expect(attributes).toContain("samesite=lax");
    expect(attributes).toContain("path=/");
    expect(attributes).not.toContain("secure"); // Secure only in production (tested in config)
    expect(attributes.some((a) => a.startsWith("expires="))).toBe(true);
  });

  it("accepts the email in any case and with surrounding spaces", async () => {
    const res = await postLogin(
      { email: `  ${seed.owner.email.toUpperCase()} `, password: seed.owner.password },
      { ip: freshIp() },
    );
    expect(res.status).toBe(200);
  });

  it("GET /me answers the session's user and every workspace with its role", async () => {
    const viewer = seed.members.VIEW_ONLY!;
    const other = await createTestWorkspace(app.db.prisma, { ownerId: seed.owner.id, name: "Beta" });
    await addMember(app.db.prisma, { workspaceId: other.workspace.id, userId: viewer.id, role: "MANAGER" });
    const cookie = await app.login(viewer.email, viewer.password);
    const res = await getMe(cookie);
    expect(res.status).toBe(200);
    const body = await jsonOf<TMeOutput>(res);
    expect(body.user).toEqual({ id: viewer.id, email: viewer.email, name: null });
    expect(body.workspaces).toEqual(
      arrayContaining([
        { id: seed.workspace.id, name: "Acme", role: "VIEW_ONLY" },
        { id: other.workspace.id, name: "Beta", role: "MANAGER" },
      ]),
    );
    expect(body.workspaces).toHaveLength(2);
  });

  it("GET /me without a session, or with a forged cookie, is 401 UNAUTHENTICATED", async () => {
    for (const cookie of [undefined, "fse.sid=s%3Aforged.signature", "fse.sid=garbage"]) {
      const res = await getMe(cookie);
      expect(res.status).toBe(401);
      expect((await jsonOf<TErrorBody>(res)).data.reason).toBe("UNAUTHENTICATED");
    }
  });

  it("a login regenerates the session id: the old cookie stops working", async () => {
    const first = await app.login(seed.owner.email, seed.owner.password);
    const res = await postLogin(
      { email: seed.outsider.email, password: seed.outsider.password },
      { ip: freshIp(), cookie: first },
    );
    expect(res.status).toBe(200);
    const second = sessionCookieOf(res)!;
    expect(second).toBeDefined();
    expect(sessionIdOf(second)).not.toBe(sessionIdOf(first));
    expect((await getMe(first)).status).toBe(401);
    const me = await getMe(second);
    expect(me.status).toBe(200);
    expect((await jsonOf<TMeOutput>(me)).user.id).toBe(seed.outsider.id);
  });

  it("a wrong password is 401 INVALID_CREDENTIALS without a cookie; an unknown email answers the same", async () => {
    const wrong = await postLogin({ email: seed.owner.email, password: "wrong password" }, { ip: freshIp() });
    const unknown = await postLogin({ email: uniqueEmail("nobody"), password: "wrong password" }, { ip: freshIp() });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(sessionCookieOf(res)).toBeUndefined();
      const body = await jsonOf(res);
      expect(body).toMatchObject({
        code: "UNAUTHORIZED",
        message: "Email or password is incorrect",
        data: { reason: "INVALID_CREDENTIALS", httpStatus: 401 },
      });
    }
  });

  it(`failures from one address never stop the right password from another (no lockout)`, async () => {
    const user = await createTestUser(app.db.prisma);
    const stranger = freshIp();
    for (let i = 0; i < EMAIL_LIMIT + 1; i++) {
      const email = i % 2 ? user.email.toUpperCase() : user.email; // one budget per address, whatever the case
      const res = await postLogin({ email, password: `guess-${i}` }, { ip: stranger });
      expect(res.status).toBe(i < EMAIL_LIMIT ? 401 : 429);
    }
    // The stranger's own address stays blocked for this email, even with the right password.
    const blocked = await postLogin({ email: user.email, password: user.password }, { ip: stranger });
    expect(blocked.status).toBe(429);
    const retryAfter = Number(blocked.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(app.config.limits.loginPerEmail.durationSeconds);
    expect(await jsonOf(blocked)).toMatchObject({
      code: "TOO_MANY_REQUESTS",
      data: { reason: "RATE_LIMITED", httpStatus: 429 },
    });
    expect(sessionCookieOf(blocked)).toBeUndefined();
    // The owner, from an address with no failure on this email, logs in.
    const owner = await postLogin({ email: user.email, password: user.password }, { ip: freshIp() });
    expect(owner.status).toBe(200);
    expect(sessionCookieOf(owner)).toBeDefined();
  });

  it(`over the email's budget, a guesser gets one guess per address: the guesses per email stay bounded`, async () => {
    const user = await createTestUser(app.db.prisma);
    const first = freshIp();
    for (let i = 0; i < EMAIL_LIMIT; i++)
      expect((await postLogin({ email: user.email, password: `guess-${i}` }, { ip: first })).status).toBe(401);
    for (let a = 0; a < 4; a++) {
      const ip = freshIp();
      expect((await postLogin({ email: user.email, password: `spread-${a}` }, { ip })).status).toBe(401);
      for (const password of ["again", user.password])
        expect((await postLogin({ email: user.email, password }, { ip })).status).toBe(429);
    }
    // Other accounts are not affected, from any of those addresses.
    expect((await postLogin({ email: seed.owner.email, password: seed.owner.password }, { ip: first })).status).toBe(
      200,
    );
  });

  it(`parallel guesses from one address: of ${EMAIL_LIMIT * 3} at once, ≤ ${EMAIL_LIMIT} checked`, async () => {
    const user = await createTestUser(app.db.prisma);
    const ip = freshIp();
    const answers = await Promise.all(
      Array.from({ length: EMAIL_LIMIT * 3 }, (_, i) =>
        postLogin({ email: user.email, password: `guess-${i}` }, { ip }),
      ),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(EMAIL_LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(EMAIL_LIMIT * 2);
    expect((await postLogin({ email: user.email, password: user.password }, { ip })).status).toBe(429);
    expect((await postLogin({ email: user.email, password: user.password }, { ip: freshIp() })).status).toBe(200);
  });

  it("a successful login clears the address's failures on that email", async () => {
    const user = await createTestUser(app.db.prisma);
    const mine = freshIp();
    expect((await postLogin({ email: user.email, password: "typo" }, { ip: mine })).status).toBe(401);
    expect((await postLogin({ email: user.email, password: user.password }, { ip: mine })).status).toBe(200);
    const stranger = freshIp();
    const statuses = [];
    for (let i = 0; i < EMAIL_LIMIT; i++)
      statuses.push((await postLogin({ email: user.email, password: "nope" }, { ip: stranger })).status);
    // The typo counts for the email too: the stranger's last guess found the email over its budget.
    expect(statuses).toEqual([...Array<number>(EMAIL_LIMIT - 1).fill(401), 429]);
    // The email is over its budget now; this address's typo was forgiven by the login, so it is clean.
    expect((await postLogin({ email: user.email, password: user.password }, { ip: mine })).status).toBe(200);
  });

  it(`throttles an address after ${IP_LIMIT} failures across emails; other addresses still log in`, async () => {
    const ip = freshIp();
    for (let i = 0; i < IP_LIMIT; i++)
      expect((await postLogin({ email: uniqueEmail("guess"), password: "nope" }, { ip })).status).toBe(401);
    const blocked = await postLogin({ email: seed.owner.email, password: seed.owner.password }, { ip });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await jsonOf<TErrorBody>(blocked)).data.reason).toBe("RATE_LIMITED");
    expect(
      (await postLogin({ email: seed.owner.email, password: seed.owner.password }, { ip: freshIp() })).status,
    ).toBe(200);
  });

  it("logout destroys the session server-side: the old cookie then gets 401", async () => {
    const cookie = await app.login(seed.owner.email, seed.owner.password);
    const sid = sessionIdOf(cookie);
    expect(await storedSessionUser(sid)).toBe(seed.owner.id);
    const res = await fetch(`${app.baseUrl}/api/auth/logout`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toEqual({ ok: true });
    expect(res.headers.getSetCookie().some((l) => /^fse\.sid=;/.test(l) && /expires=thu, 01 jan 1970/i.test(l))).toBe(
      true,
    );
    expect(await storedSessionUser(sid)).toBeNull();
    // Replaying the cookie (as a thief who copied it would) does not work.
    expect((await getMe(cookie)).status).toBe(401);
  });

  it("keeps sessions in the configured store: Redis under the prefix with the TTL, else the database", async () => {
    const cookie = await app.login(seed.owner.email, seed.owner.password);
    const sid = sessionIdOf(cookie);
    if (app.redis) {
      const key = `${app.keyPrefix}sess:${sid}`;
      expect(await app.redis.keys(`${app.keyPrefix}sess:*`)).toContain(key);
      expect((JSON.parse((await app.redis.get(key))!) as { userId: string }).userId).toBe(seed.owner.id);
      const ttl = await app.redis.ttl(key);
      expect(ttl).toBeGreaterThan(app.config.session.ttlSeconds - 60);
      expect(ttl).toBeLessThanOrEqual(app.config.session.ttlSeconds);
    } else {
      const [row] = await app.db.prisma.$queryRaw<{ sess: { userId: string }; ttl: number }[]>`
        SELECT sess, extract(epoch FROM expires_at - now())::int AS ttl FROM sessions WHERE sid = ${sid}`;
      expect(row?.sess.userId).toBe(seed.owner.id);
      expect(row?.ttl).toBeGreaterThan(app.config.session.ttlSeconds - 60);
      expect(row?.ttl).toBeLessThanOrEqual(app.config.session.ttlSeconds);
    }
    expect(await storedSessionUser(sid)).toBe(seed.owner.id);
  });
});

/** The userId the app's session store holds for `sid`, or null when there is no such session. */
function storedSessionUser(sid: string): Promise<string | null> {
  return new Promise((resolve, reject) =>
    app.runtime.sessionStore.get(sid, (err, session) =>
      err ? reject(err as Error) : resolve((session as { userId?: string } | null)?.userId ?? null),
    ),
  );
}

describe("tRPC auth.* through the dashboard client", () => {
  it("logs in through the client, then me and logout work with the cookie it received", async () => {
    const jar = createCookieJar();
    const client = createDashboardClient({ baseUrl: app.baseUrl, cookie: jar.cookie, fetch: jar.fetch });
    const loggedIn = await client.auth.login.mutate({ email: seed.owner.email, password: seed.owner.password });
    expect(loggedIn.user.id).toBe(seed.owner.id);
    expect(jar.cookie()).toMatch(/^fse\.sid=s%3A/);
    const me = await client.auth.me.query({});
    expect(me).toEqual(loggedIn);
    expect(me.workspaces).toContainEqual({ id: seed.workspace.id, name: "Acme", role: "ADMIN" });

    const stolen = jar.cookie()!;
    await expect(client.auth.logout.mutate({})).resolves.toEqual({ ok: true });
    await expect(trpcClient(app, stolen).auth.me.query({})).rejects.toMatchObject({
      data: { code: "UNAUTHORIZED", httpStatus: 401 },
    });
  });

  it("the REST cookie works on tRPC and the other way round (one session, two transports)", async () => {
    const cookie = await app.login(seed.owner.email, seed.owner.password);
    expect((await trpcClient(app, cookie).auth.me.query({})).user.id).toBe(seed.owner.id);
  });

  it("a wrong password rejects with UNAUTHORIZED and reason INVALID_CREDENTIALS", async () => {
    const error = await trpcClient(app)
      .auth.login.mutate({ email: seed.members.VIEW_ONLY!.email, password: "wrong" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<AppRouter>).data).toMatchObject({
      code: "UNAUTHORIZED",
      httpStatus: 401,
      reason: "INVALID_CREDENTIALS",
      path: "auth.login",
    });
  });

  it("throttles on tRPC too, with Retry-After on the 429", async () => {
    const user = await createTestUser(app.db.prisma);
    const ip = freshIp();
    let last: Response | undefined;
    const client = createDashboardClient({
      baseUrl: app.baseUrl,
      fetch: async (input, init) =>
        (last = await fetch(input, {
          ...init,
          headers: { ...(init?.headers as Record<string, string>), "x-forwarded-for": ip },
        })),
    });
    for (let i = 0; i < EMAIL_LIMIT; i++) {
      await expect(client.auth.login.mutate({ email: user.email, password: "nope" })).rejects.toMatchObject({
        data: { httpStatus: 401 },
      });
    }
    await expect(client.auth.login.mutate({ email: user.email, password: user.password })).rejects.toMatchObject({
      data: { code: "TOO_MANY_REQUESTS", httpStatus: 429, reason: "RATE_LIMITED" },
    });
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
