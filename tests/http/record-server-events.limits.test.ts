import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countIngestRows } from "../support/ingest-state.ts";
import { uid } from "../support/fixtures.ts";
import type { TTestApp } from "../support/test-app.ts";
import {
  errorOf,
  okBody,
  TRANSPORTS,
  unchecked,
  type TRecordInput,
  type TTransport,
  type TWire,
  type TWireResult,
  startWiredApp,
} from "../support/wire.ts";

const LIMIT = 3;
const WINDOW_SECONDS = 3600;

let app: TTestApp;
let wire: TWire;

beforeAll(
  async () =>
    ({ app, wire } = await startWiredApp({
      config: { SERVER_EVENTS_RATE_LIMIT: String(LIMIT), SERVER_EVENTS_RATE_WINDOW_SECONDS: String(WINDOW_SECONDS) },
    })),
);
afterAll(() => app?.close());

/** The rate-limit headers of an answer, as numbers (NaN when absent). */
function limitHeaders(result: TWireResult<unknown>) {
  const n = (name: string) => (result.headers.has(name) ? Number(result.headers.get(name)) : Number.NaN);
  return {
    limit: n("ratelimit-limit"),
    remaining: n("ratelimit-remaining"),
    reset: n("ratelimit-reset"),
    retryAfter: n("retry-after"),
  };
}

/** A fresh workspace whose owner (and, when asked, a MANAGER and a VIEW_ONLY member) have a full budget. */
async function freshUsers(opts: { members?: boolean } = {}) {
  const seed = await app.seedWorkspace({ roles: opts.members ? ["MANAGER", "VIEW_ONLY"] : [] });
  const login = (u: { email: string; password: string } | undefined) =>
    u ? app.login(u.email, u.password) : Promise.resolve("");
  const [owner, manager, viewer] = await Promise.all([
    login(seed.owner),
    login(seed.members.MANAGER),
    login(seed.members.VIEW_ONLY),
  ]);
  const input = (over: Partial<TRecordInput> = {}): TRecordInput => ({
    workspaceId: seed.workspace.id,
    siteId: seed.site.id,
    events: [{ type: "signup", visitorId: `v_${uid()}` }],
    ...over,
  });
  return { seed, owner, manager, viewer, input };
}

const other = (t: TTransport): TTransport => (t === "rest" ? "trpc" : "rest");

describe.each(TRANSPORTS)("rate limit over %s", (transport) => {
  it("every answer carries RateLimit-Limit, -Remaining and -Reset: success, 400 and 403 alike", async () => {
    const { owner, viewer, input } = await freshUsers({ members: true });
    const ok = await wire.record(transport, input(), { cookie: owner });
    expect(ok.status).toBe(200);
    const first = limitHeaders(ok);
    expect({ limit: first.limit, remaining: first.remaining }).toEqual({ limit: LIMIT, remaining: LIMIT - 1 });
    expect(Number.isInteger(first.reset)).toBe(true);
    expect(first.reset).toBeGreaterThan(0);
    expect(first.reset).toBeLessThanOrEqual(WINDOW_SECONDS);

    const invalid = await wire.record(transport, input({ events: [] }), { cookie: owner });
    expect(invalid.status).toBe(400);
    expect(limitHeaders(invalid)).toMatchObject({ limit: LIMIT, remaining: LIMIT - 2 });

    const forbidden = await wire.record(transport, input(), { cookie: viewer });
    expect(errorOf(forbidden)).toMatchObject({ status: 403, reason: "ROLE_FORBIDDEN" });
    expect(limitHeaders(forbidden)).toMatchObject({ limit: LIMIT, remaining: LIMIT - 1 });
  });

  it(`the request after ${LIMIT} is 429 with Retry-After in whole seconds, and writes nothing`, async () => {
    const { seed, owner, input } = await freshUsers();
    for (let i = 0; i < LIMIT; i++) expect((await wire.record(transport, input(), { cookie: owner })).status).toBe(200);
    const before = await countIngestRows(app.db.prisma, seed.workspace.id);

    const limited = errorOf(await wire.record(transport, input(), { cookie: owner }));
    expect({ status: limited.status, reason: limited.reason }).toEqual({ status: 429, reason: "RATE_LIMITED" });
    const h = limitHeaders(limited);
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(h.retryAfter).toBeGreaterThan(0);
    expect(h.retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
    expect({ limit: h.limit, remaining: h.remaining }).toEqual({ limit: LIMIT, remaining: 0 });
    expect(h.reset).toBeGreaterThan(0);
    expect(await countIngestRows(app.db.prisma, seed.workspace.id)).toEqual(before);
  });

  it("malformed requests spend the budget too (the limiter runs before validation)", async () => {
    const { owner, input } = await freshUsers();
    for (let i = 0; i < LIMIT; i++)
      expect(
        (await wire.record(transport, unchecked<TRecordInput>({ ...input(), events: "nope" }), { cookie: owner }))
          .status,
      ).toBe(400);
    expect((await wire.record(transport, input(), { cookie: owner })).status).toBe(429);
  });

  it("is counted per session user: another user of the same workspace is unaffected", async () => {
    const { owner, manager, input } = await freshUsers({ members: true });
    for (let i = 0; i <= LIMIT; i++) await wire.record(transport, input(), { cookie: owner });
    expect((await wire.record(transport, input(), { cookie: owner })).status).toBe(429);
    const res = await wire.record(transport, input(), { cookie: manager });
    expect(okBody(res).accepted).toBe(1);
    expect(limitHeaders(res)).toMatchObject({ limit: LIMIT, remaining: LIMIT - 1 });
  });

  it("is counted per user, not per session: a second login of the same user shares the budget", async () => {
    const { seed, owner, input } = await freshUsers();
    const secondSession = await app.login(seed.owner.email, seed.owner.password);
    expect(secondSession).not.toBe(owner);
    await wire.record(transport, input(), { cookie: owner });
    await wire.record(transport, input(), { cookie: secondSession });
    expect(limitHeaders(await wire.record(transport, input(), { cookie: owner }))).toMatchObject({ remaining: 0 });
    expect((await wire.record(transport, input(), { cookie: secondSession })).status).toBe(429);
  });

  it("REST and tRPC share one budget", async () => {
    const { owner, input } = await freshUsers();
    expect(limitHeaders(await wire.record(other(transport), input(), { cookie: owner })).remaining).toBe(2);
    expect(limitHeaders(await wire.record(transport, input(), { cookie: owner })).remaining).toBe(1);
    expect(limitHeaders(await wire.record(other(transport), input(), { cookie: owner })).remaining).toBe(0);
    const limited = errorOf(await wire.record(transport, input(), { cookie: owner }));
    expect(limited.status).toBe(429);
    expect(errorOf(await wire.record(other(transport), input(), { cookie: owner })).status).toBe(429);
  });

  it("reads do not spend it and still answer once it is spent", async () => {
    const { seed, owner, input } = await freshUsers();
    for (let i = 0; i < LIMIT; i++) await wire.record(transport, input(), { cookie: owner });
    for (let i = 0; i < LIMIT + 1; i++) {
      const listed = await wire.listEvents(
        transport,
        { workspaceId: seed.workspace.id, siteId: seed.site.id },
        { cookie: owner },
      );
      expect(okBody(listed).items).toHaveLength(LIMIT);
    }
    expect((await wire.record(transport, input(), { cookie: owner })).status).toBe(429);
  });

  it("a request without a session is refused before the limiter and spends nobody's budget", async () => {
    const { owner, input } = await freshUsers();
    const anonymous = await wire.record(transport, input());
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.has("ratelimit-remaining")).toBe(false);
    expect(limitHeaders(await wire.record(transport, input(), { cookie: owner })).remaining).toBe(LIMIT - 1);
  });
});
