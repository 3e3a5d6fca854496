import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestSite, type TSeededWorkspace, uid } from "../support/fixtures.ts";
import type { TTestApp } from "../support/test-app.ts";
import {
  errorOf,
  okBody,
  TRANSPORTS,
  unchecked,
  type TServerEventInput,
  type TWire,
  startWiredApp,
} from "../support/wire.ts";
import { anyString, arrayContaining } from "../support/matchers.ts";

let app: TTestApp;
let wire: TWire;

beforeAll(async () => ({ app, wire } = await startWiredApp()));
afterAll(() => app?.close());

const MINUTE = 60_000;

describe.each(TRANSPORTS)("reads over %s", (transport) => {
  let seed: TSeededWorkspace;
  let cookie: string;
  const scope = () => ({ workspaceId: seed.workspace.id });

  beforeAll(async () => {
    seed = await app.seedWorkspace();
    cookie = await app.login(seed.owner.email, seed.owner.password);
  });

  const record = async (events: TServerEventInput[], siteId = seed.site.id) =>
    okBody(await wire.record(transport, { ...scope(), siteId, events }, { cookie }));

  describe("profiles.lookup", () => {
    it("by visitorId and by email (any case, spaces): profile with identifiers, funnel links, counters", async () => {
      const visitorId = `v_${uid()}`;
      const email = `look-${uid()}@example.com`;
      const body = await record([
        { type: "visit", visitorId },
        { type: "trial_signup", visitorId, email },
      ]);
      const profileId = body.events[0]!.profileId;
      const stored = await app.db.prisma.profile.findUniqueOrThrow({ where: { id: profileId } });

      const byVisitor = okBody(await wire.lookup(transport, { ...scope(), visitorId }, { cookie })).profile;
      expect(byVisitor).toEqual({
        id: profileId,
        identifiers: arrayContaining([
          { kind: "VISITOR", value: visitorId },
          { kind: "EMAIL", value: email },
        ]),
        funnelLinks: [
          {
            funnelId: seed.funnel.id,
            currentStage: "TRIAL",
            stageChangedAt: stored.firstSeenAt.toISOString(),
            eventCount: 2,
            firstSeenAt: stored.firstSeenAt.toISOString(),
            lastSeenAt: stored.lastSeenAt.toISOString(),
          },
        ],
        eventCount: 2,
        serverEventCount: 2,
        pageviewCount: 0,
        firstSeenAt: stored.firstSeenAt.toISOString(),
        lastSeenAt: stored.lastSeenAt.toISOString(),
      });
      expect(byVisitor!.identifiers).toHaveLength(2);
      const byEmail = okBody(
        await wire.lookup(transport, { ...scope(), email: `  ${email.toUpperCase()} ` }, { cookie }),
      ).profile;
      expect(byEmail).toEqual(byVisitor);
    });

    it("answers profile: null for an unknown visitorId or email, and for another workspace's", async () => {
      expect(okBody(await wire.lookup(transport, { ...scope(), visitorId: `v_${uid()}` }, { cookie }))).toEqual({
        profile: null,
      });
      expect(
        okBody(await wire.lookup(transport, { ...scope(), email: `nobody-${uid()}@example.com` }, { cookie })),
      ).toEqual({ profile: null });

      const theirs = await app.seedWorkspace({ name: "Theirs" });
      const theirCookie = await app.login(theirs.owner.email, theirs.owner.password);
      const visitorId = `v_${uid()}`;
      okBody(
        await wire.record(
          transport,
          { workspaceId: theirs.workspace.id, siteId: theirs.site.id, events: [{ type: "visit", visitorId }] },
          { cookie: theirCookie },
        ),
      );
      expect(okBody(await wire.lookup(transport, { ...scope(), visitorId }, { cookie }))).toEqual({ profile: null });
    });

    it("needs exactly one of visitorId or email: 400 otherwise", async () => {
      expect(errorOf(await wire.lookup(transport, scope(), { cookie }))).toMatchObject({
        status: 400,
        reason: "VALIDATION_FAILED",
      });
      const both = errorOf(
        await wire.lookup(transport, { ...scope(), visitorId: "v_1", email: "a@example.com" }, { cookie }),
      );
      expect(both).toMatchObject({ status: 400, reason: "VALIDATION_FAILED" });
      expect(both.issues.map((i) => i.path)).toEqual([["visitorId"]]);
    });
  });

  describe("profiles.get", () => {
    /** A profile with 7 timeline entries: 4 at distinct times, 3 sharing one instant (ties broken by id). */
    async function profileWithTimeline() {
      const visitorId = `v_${uid()}`;
      const base = Date.now() - 60 * MINUTE;
      const sameInstant = new Date(base + 30 * MINUTE).toISOString();
      const body = await record([
        ...[0, 10, 20, 40].map((m) => ({
          type: `step_${m}`,
          visitorId,
          timestamp: new Date(base + m * MINUTE).toISOString(),
        })),
        ...["tie_a", "tie_b", "tie_c"].map((type) => ({ type, visitorId, timestamp: sameInstant })),
      ]);
      return body.events[0]!.profileId;
    }

    it("pages through the timeline newest first: limit=1 walks every item once, then nextCursor null", async () => {
      const profileId = await profileWithTimeline();
      const all = okBody(await wire.getProfile(transport, { ...scope(), profileId, limit: 200 }, { cookie }));
      expect(all.timeline.items).toHaveLength(7);
      expect(all.timeline.nextCursor).toBeNull();
      const keys = all.timeline.items.map((i) => `${i.occurredAt}|${i.id}`);
      expect(keys).toEqual([...keys].sort().reverse());
      expect(all.timeline.items.map((i) => i.type).slice(0, 1)).toEqual(["step_40"]);
      expect(all.timeline.items.at(-1)!.type).toBe("step_0");

      const walked: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 20; page++) {
        const res = okBody(
          await wire.getProfile(
            transport,
            { ...scope(), profileId, limit: 1, ...(cursor ? { cursor } : {}) },
            { cookie },
          ),
        );
        expect(res.timeline.items.length).toBeLessThanOrEqual(1);
        walked.push(...res.timeline.items.map((i) => i.id));
        if (!res.timeline.nextCursor) break;
        cursor = res.timeline.nextCursor;
      }
      expect(walked).toEqual(all.timeline.items.map((i) => i.id));
    });

    it("pages of 3 join up to the whole timeline, each with the profile", async () => {
      const profileId = await profileWithTimeline();
      const pages = [];
      let cursor: string | undefined;
      do {
        const res = okBody(
          await wire.getProfile(
            transport,
            { ...scope(), profileId, limit: 3, ...(cursor ? { cursor } : {}) },
            { cookie },
          ),
        );
        expect(res.profile).toMatchObject({ id: profileId, eventCount: 7 });
        pages.push(res.timeline.items.map((i) => i.type));
        cursor = res.timeline.nextCursor ?? undefined;
      } while (cursor);
      expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
      expect(pages.flat().sort()).toEqual(["step_0", "step_10", "step_20", "step_40", "tie_a", "tie_b", "tie_c"]);
    });

    it("without a limit answers the first page of 50", async () => {
      const visitorId = `v_${uid()}`;
      await record(Array.from({ length: 50 }, () => ({ type: "visit", visitorId })));
      const body = await record([{ type: "visit", visitorId }]);
      const res = okBody(
        await wire.getProfile(transport, { ...scope(), profileId: body.events[0]!.profileId }, { cookie }),
      );
      expect(res.timeline.items).toHaveLength(50);
      expect(res.timeline.nextCursor).toEqual(anyString());
    });

    it.each([
      ["garbage", "!!not-a-cursor!!"],
      ["a cursor without an id", Buffer.from(`${new Date().toISOString()}|`).toString("base64url")],
      ["a cursor with a bad date", Buffer.from("yesterday|pev_1").toString("base64url")],
    ])("a bad cursor (%s) is 400 naming cursor", async (_, cursor) => {
      const profileId = await profileWithTimeline();
      const e = errorOf(await wire.getProfile(transport, { ...scope(), profileId, cursor }, { cookie }));
      expect({ status: e.status, reason: e.reason }).toEqual({ status: 400, reason: "VALIDATION_FAILED" });
      expect(e.issues.map((i) => i.path)).toEqual([["cursor"]]);
    });

    it.each([0, 201, 1.5, -1])("limit %s is 400 naming limit", async (limit) => {
      const e = errorOf(await wire.getProfile(transport, { ...scope(), profileId: "prf_x", limit }, { cookie }));
      expect(e.status).toBe(400);
      expect(e.issues.map((i) => i.path)).toEqual([["limit"]]);
    });

    it("an unknown profile is 404", async () => {
      const e = errorOf(await wire.getProfile(transport, { ...scope(), profileId: `prf_${uid()}` }, { cookie }));
      expect({ status: e.status, reason: e.reason }).toEqual({ status: 404, reason: "NOT_FOUND" });
      expect(e.issues.map((i) => i.path)).toEqual([["profileId"]]);
    });

    it("another workspace's profile is the same 404, even to someone who is a member there too", async () => {
      const theirs = await app.seedWorkspace({ name: "Theirs" });
      const theirCookie = await app.login(theirs.owner.email, theirs.owner.password);
      const theirProfile = okBody(
        await wire.record(
          transport,
          {
            workspaceId: theirs.workspace.id,
            siteId: theirs.site.id,
            events: [{ type: "visit", visitorId: `v_${uid()}` }],
          },
          { cookie: theirCookie },
        ),
      ).events[0]!.profileId;
      const unknown = errorOf(await wire.getProfile(transport, { ...scope(), profileId: `prf_${uid()}` }, { cookie }));
      const foreign = errorOf(await wire.getProfile(transport, { ...scope(), profileId: theirProfile }, { cookie }));
      expect({
        status: foreign.status,
        reason: foreign.reason,
        message: foreign.message,
        issues: foreign.issues,
      }).toEqual({
        status: unknown.status,
        reason: unknown.reason,
        message: unknown.message,
        issues: unknown.issues,
      });
      // Asking through their own workspace works: the id exists, only not in ours.
      expect(
        okBody(
          await wire.getProfile(
            transport,
            { workspaceId: theirs.workspace.id, profileId: theirProfile },
            { cookie: theirCookie },
          ),
        ).profile.id,
      ).toBe(theirProfile);
    });
  });

  describe("tracking.listEvents", () => {
    it("lists a site's events newest first with channel and rule, cursor-paginated, and only that site's", async () => {
      const site = await createTestSite(app.db.prisma, {
        workspaceId: seed.workspace.id,
        funnelId: seed.funnel.id,
        domain: `s-${uid()}.example.com`,
      });
      const start = Date.now() - 10 * MINUTE;
      const at = (m: number) => new Date(start + m * MINUTE).toISOString();
      const visitorId = `v_${uid()}`;
      const recorded = await record(
        [
          { type: "a", visitorId, timestamp: at(1), utm: { medium: "cpc", source: "google" } },
          { type: "b", visitorId, timestamp: at(3), referrer: "https://www.google.com/" },
          { type: "c", visitorId, timestamp: at(2), props: { plan: "pro" }, messageId: `m_${uid()}` },
          { type: "d", visitorId, timestamp: at(4) },
        ],
        site.id,
      );
      await record([{ type: "elsewhere", visitorId }]); // on the seed's other site

      const all = okBody(await wire.listEvents(transport, { ...scope(), siteId: site.id }, { cookie }));
      expect(all.nextCursor).toBeNull();
      expect(all.items.map((e) => e.type)).toEqual(["d", "b", "c", "a"]);
      const byType = Object.fromEntries(all.items.map((e) => [e.type, e]));
      expect(byType.a).toMatchObject({
        channel: "paid",
        channelRule: "utm_medium:cpc",
        utm: { medium: "cpc", source: "google", campaign: null },
      });
      expect(byType.b).toMatchObject({
        channel: "organic_search",
        channelRule: "referrer:google.com",
        referrer: "https://www.google.com/",
      });
      expect(byType.d).toMatchObject({ channel: "direct", channelRule: "none" });
      expect(byType.c).toMatchObject({
        id: recorded.events[2]!.eventId,
        source: "SERVER",
        visitorId,
        userId: seed.owner.id,
        profileId: recorded.events[2]!.profileId,
        props: { plan: "pro" },
        occurredAt: at(2),
      });

      const walked: string[] = [];
      let cursor: string | undefined;
      do {
        const page = okBody(
          await wire.listEvents(
            transport,
            { ...scope(), siteId: site.id, limit: 3, ...(cursor ? { cursor } : {}) },
            { cookie },
          ),
        );
        walked.push(...page.items.map((e) => e.type));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(walked).toEqual(["d", "b", "c", "a"]);
    });

    it("another workspace's site is 403 SITE_NOT_IN_WORKSPACE naming siteId", async () => {
      const theirs = await app.seedWorkspace({ name: "Theirs" });
      const e = errorOf(await wire.listEvents(transport, { ...scope(), siteId: theirs.site.id }, { cookie }));
      expect({ status: e.status, reason: e.reason }).toEqual({ status: 403, reason: "SITE_NOT_IN_WORKSPACE" });
      expect(e.issues.map((i) => i.path)).toEqual([["siteId"]]);
    });

    it("a bad cursor is 400 naming cursor", async () => {
      const e = errorOf(
        await wire.listEvents(transport, { ...scope(), siteId: seed.site.id, cursor: "nope" }, { cookie }),
      );
      expect(e.status).toBe(400);
      expect(e.issues.map((i) => i.path)).toEqual([["cursor"]]);
    });
  });
});

describe("coercion guard (docs/trpc-openapi.md #2): REST must not switch coercion on for the shared schemas", () => {
  let seed: TSeededWorkspace;
  let cookie: string;
  let profileId: string;

  beforeAll(async () => {
    seed = await app.seedWorkspace();
    cookie = await app.login(seed.owner.email, seed.owner.password);
    const body = okBody(
      await wire.record(
        "rest",
        {
          workspaceId: seed.workspace.id,
          siteId: seed.site.id,
          events: Array.from({ length: 8 }, () => ({ type: "visit", visitorId: "v_guard" })),
        },
        { cookie },
      ),
    );
    profileId = body.events[0]!.profileId;
  });

  // With coercion switched on, true, [5], " 7 " and "1e1" would become valid numbers; "5x" and null fail either way.
  it.each([
    ["true", true],
    ["[5]", [5]],
    ['" 7 "', " 7 "],
    ['"1e1"', "1e1"],
    ['"5x"', "5x"],
    ["null", null],
  ])("after REST calls with limit=5, tRPC still refuses limit %s with 400", async (_, wrong) => {
    const rest = okBody(
      await wire.getProfile("rest", { workspaceId: seed.workspace.id, profileId, limit: 5 }, { cookie }),
    );
    expect(rest.timeline.items).toHaveLength(5);
    okBody(
      await wire.listEvents("rest", { workspaceId: seed.workspace.id, siteId: seed.site.id, limit: 5 }, { cookie }),
    );

    for (const call of [
      wire.getProfile("trpc", unchecked({ workspaceId: seed.workspace.id, profileId, limit: wrong }), { cookie }),
      wire.listEvents("trpc", unchecked({ workspaceId: seed.workspace.id, siteId: seed.site.id, limit: wrong }), {
        cookie,
      }),
    ]) {
      const e = errorOf(await call);
      expect({ status: e.status, reason: e.reason }).toEqual({ status: 400, reason: "VALIDATION_FAILED" });
      expect(e.issues.map((i) => i.path)).toEqual([["limit"]]);
    }
  });

  it("tRPC takes a real number, and REST the same page size as a query string", async () => {
    const trpc = okBody(
      await wire.getProfile("trpc", { workspaceId: seed.workspace.id, profileId, limit: 5 }, { cookie }),
    );
    const rest = okBody(
      await wire.getProfile("rest", { workspaceId: seed.workspace.id, profileId, limit: 5 }, { cookie }),
    );
    expect(trpc.timeline.items.map((i) => i.id)).toEqual(rest.timeline.items.map((i) => i.id));
  });

  it("a recordServerEvents body with wrong-typed values is still refused over tRPC after REST calls", async () => {
    okBody(
      await wire.record(
        "rest",
        { workspaceId: seed.workspace.id, siteId: seed.site.id, events: [{ type: "visit", visitorId: "v_guard" }] },
        { cookie },
      ),
    );
    const e = errorOf(
      await wire.record(
        "trpc",
        unchecked({
          workspaceId: seed.workspace.id,
          siteId: seed.site.id,
          events: [{ type: 123, visitorId: 42, timestamp: 0 }],
        }),
        { cookie },
      ),
    );
    expect(e.status).toBe(400);
    expect(e.issues.map((i) => i.path)).toEqual(
      arrayContaining([
        ["events", 0, "type"],
        ["events", 0, "visitorId"],
        ["events", 0, "timestamp"],
      ]),
    );
  });
});
