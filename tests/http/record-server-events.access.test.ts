import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestSite, createTestWorkspace, type TSeededWorkspace, uid } from "../support/fixtures.ts";
import { countIngestRows, NOTHING_WRITTEN } from "../support/ingest-state.ts";
import type { TTestApp } from "../support/test-app.ts";
import { errorOf, okBody, TRANSPORTS, type TRecordInput, type TWire, startWiredApp } from "../support/wire.ts";

const ALLOWED_ORIGIN = "https://admin.example.org";

let app: TTestApp;
let wire: TWire;

beforeAll(async () => ({ app, wire } = await startWiredApp({ config: { ALLOWED_ORIGINS: ALLOWED_ORIGIN } })));
afterAll(() => app?.close());

describe.each(TRANSPORTS)("tracking.recordServerEvents access over %s", (transport) => {
  let seed: TSeededWorkspace;
  let owner: string;
  let manager: string;
  let viewer: string;
  let outsider: string;

  beforeAll(async () => {
    seed = await app.seedWorkspace({ roles: ["MANAGER", "VIEW_ONLY"] });
    const login = (u: { email: string; password: string }) => app.login(u.email, u.password);
    [owner, manager, viewer, outsider] = await Promise.all([
      login(seed.owner),
      login(seed.members.MANAGER!),
      login(seed.members.VIEW_ONLY!),
      login(seed.outsider),
    ]);
  });

  const request = (over: Partial<TRecordInput> = {}): TRecordInput => ({
    workspaceId: seed.workspace.id,
    siteId: seed.site.id,
    events: [{ type: "signup", visitorId: `v_${uid()}`, email: `${uid()}@example.com` }],
    ...over,
  });
  const rows = () => countIngestRows(app.db.prisma, seed.workspace.id);
  /** Runs a refused request and checks the workspace's ingest tables did not change. */
  async function refusedWithoutWrites(call: () => ReturnType<TWire["record"]>) {
    const before = await rows();
    const result = await call();
    expect(await rows()).toEqual(before);
    return errorOf(result);
  }
  /** The error body as a client sees it, minus the per-request id. */
  const visible = (r: Awaited<ReturnType<TWire["record"]>>) => {
    const e = errorOf(r);
    return { status: e.status, reason: e.reason, message: e.message, data: { ...e.data, requestId: undefined } };
  };

  it("without a session answers 401 UNAUTHENTICATED and writes nothing", async () => {
    const e = await refusedWithoutWrites(() => wire.record(transport, request()));
    expect(e.status).toBe(401);
    expect(e.reason).toBe("UNAUTHENTICATED");
  });

  it.each([
    ["an unsigned session id", "fse.sid=abcdef"],
    ["a forged signature", "fse.sid=s%3AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    ["garbage", "fse.sid=%%%"],
  ])("with a cookie that is not a session (%s) answers 401 and writes nothing", async (_, cookie) => {
    const e = await refusedWithoutWrites(() => wire.record(transport, request(), { cookie }));
    expect(e.status).toBe(401);
    expect(e.reason).toBe("UNAUTHENTICATED");
  });

  it("with the cookie of a logged-out session answers 401", async () => {
    const cookie = await app.login(seed.owner.email, seed.owner.password);
    const out = await fetch(`${app.baseUrl}/api/auth/logout`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: "{}",
    });
    expect(out.status).toBe(200);
    const e = await refusedWithoutWrites(() => wire.record(transport, request(), { cookie }));
    expect(e.status).toBe(401);
    expect(e.reason).toBe("UNAUTHENTICATED");
  });

  it("a non-member and a workspace that does not exist get the same 403, indistinguishable", async () => {
    const before = await rows();
    const notMember = await wire.record(transport, request(), { cookie: outsider });
    const noSuchWorkspace = await wire.record(transport, request({ workspaceId: `ws_${uid()}${uid()}` }), {
      cookie: outsider,
    });
    expect(visible(notMember)).toEqual(visible(noSuchWorkspace));
    expect(visible(notMember)).toMatchObject({ status: 403, reason: "WORKSPACE_FORBIDDEN" });
    expect(errorOf(notMember).issues.map((i) => i.path)).toEqual([["workspaceId"]]);
    // The owner of another workspace asking about this one: same answer again.
    const other = await createTestWorkspace(app.db.prisma, { ownerId: seed.outsider.id, name: "Other" });
    expect(visible(await wire.record(transport, request(), { cookie: outsider }))).toEqual(visible(notMember));
    expect(await rows()).toEqual(before);
    expect(await countIngestRows(app.db.prisma, other.workspace.id)).toEqual(NOTHING_WRITTEN);
  });

  it("a VIEW_ONLY member gets 403 ROLE_FORBIDDEN and nothing is written", async () => {
    const e = await refusedWithoutWrites(() => wire.record(transport, request(), { cookie: viewer }));
    expect(e.status).toBe(403);
    expect(e.reason).toBe("ROLE_FORBIDDEN");
    expect(e.issues.map((i) => i.path)).toEqual([["workspaceId"]]);
  });

  it("ADMIN and MANAGER members may write, each recorded as themselves", async () => {
    for (const [cookie, userId] of [
      [owner, seed.owner.id],
      [manager, seed.members.MANAGER!.id],
    ] as const) {
      const body = okBody(await wire.record(transport, request(), { cookie }));
      expect(body.accepted).toBe(1);
      expect(
        await app.db.prisma.trackingEvent.findUniqueOrThrow({ where: { id: body.events[0]!.eventId } }),
      ).toMatchObject({ workspaceId: seed.workspace.id, userId });
    }
  });

  it("a VIEW_ONLY member may read: profiles.lookup, profiles.get and tracking.listEvents", async () => {
    const visitorId = `v_${uid()}`;
    const recorded = okBody(
      await wire.record(transport, request({ events: [{ type: "signup", visitorId }] }), { cookie: owner }),
    );
    const profileId = recorded.events[0]!.profileId;

    const found = okBody(
      await wire.lookup(transport, { workspaceId: seed.workspace.id, visitorId }, { cookie: viewer }),
    );
    expect(found.profile?.id).toBe(profileId);
    const got = okBody(
      await wire.getProfile(transport, { workspaceId: seed.workspace.id, profileId }, { cookie: viewer }),
    );
    expect(got.profile.id).toBe(profileId);
    expect(got.timeline.items.map((i) => i.type)).toEqual(["signup"]);
    const listed = okBody(
      await wire.listEvents(transport, { workspaceId: seed.workspace.id, siteId: seed.site.id }, { cookie: viewer }),
    );
    expect(listed.items.map((e) => e.id)).toContain(recorded.events[0]!.eventId);

    // ... but an outsider may not, with the same 403 as for writes.
    for (const read of [
      wire.lookup(transport, { workspaceId: seed.workspace.id, visitorId }, { cookie: outsider }),
      wire.getProfile(transport, { workspaceId: seed.workspace.id, profileId }, { cookie: outsider }),
      wire.listEvents(transport, { workspaceId: seed.workspace.id, siteId: seed.site.id }, { cookie: outsider }),
    ]) {
      expect(errorOf(await read)).toMatchObject({ status: 403, reason: "WORKSPACE_FORBIDDEN" });
    }
    for (const read of [
      wire.lookup(transport, { workspaceId: seed.workspace.id, visitorId }),
      wire.listEvents(transport, { workspaceId: seed.workspace.id, siteId: seed.site.id }),
    ]) {
      expect(errorOf(await read)).toMatchObject({ status: 401, reason: "UNAUTHENTICATED" });
    }
  });

  describe("a siteId that is not a site of the workspace", () => {
    it("another workspace's site: 403 SITE_NOT_IN_WORKSPACE naming siteId, nothing written anywhere", async () => {
      const theirs = await app.seedWorkspace({ name: "Theirs" });
      const e = await refusedWithoutWrites(() =>
        wire.record(transport, request({ siteId: theirs.site.id }), { cookie: owner }),
      );
      expect(e.status).toBe(403);
      expect(e.reason).toBe("SITE_NOT_IN_WORKSPACE");
      expect(e.issues.map((i) => i.path)).toEqual([["siteId"]]);
      expect(await countIngestRows(app.db.prisma, theirs.workspace.id)).toEqual(NOTHING_WRITTEN);
    });

    it("a site that does not exist answers exactly the same", async () => {
      const theirs = await app.seedWorkspace({ name: "Theirs" });
      const foreign = errorOf(await wire.record(transport, request({ siteId: theirs.site.id }), { cookie: owner }));
      const missing = errorOf(await wire.record(transport, request({ siteId: `site_${uid()}` }), { cookie: owner }));
      expect({ ...missing, data: { ...missing.data, requestId: null }, headers: null }).toEqual({
        ...foreign,
        data: { ...foreign.data, requestId: null },
        headers: null,
      });
    });

    it("a site of the same user's other workspace is still refused", async () => {
      const second = await createTestWorkspace(app.db.prisma, { ownerId: seed.owner.id, name: "Second" });
      const site = await createTestSite(app.db.prisma, {
        workspaceId: second.workspace.id,
        funnelId: second.defaultFunnel.id,
      });
      const e = errorOf(await wire.record(transport, request({ siteId: site.id }), { cookie: owner }));
      expect(e).toMatchObject({ status: 403, reason: "SITE_NOT_IN_WORKSPACE" });
      expect(await countIngestRows(app.db.prisma, second.workspace.id)).toEqual(NOTHING_WRITTEN);
    });
  });

  describe("CSRF", () => {
    it.each(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/json"])(
      "a %s body answers 415 UNSUPPORTED_MEDIA_TYPE and writes nothing",
      async (contentType) => {
        const e = await refusedWithoutWrites(() =>
          wire.record(transport, request(), { cookie: owner, headers: { "content-type": contentType } }),
        );
        expect(e.status).toBe(415);
        expect(e.reason).toBe("UNSUPPORTED_MEDIA_TYPE");
      },
    );

    it("application/json with a charset is accepted", async () => {
      const r = await wire.record(transport, request(), {
        cookie: owner,
        headers: { "content-type": "application/json; charset=utf-8" },
      });
      expect(okBody(r).accepted).toBe(1);
    });

    it.each(["https://evil.example", "http://127.0.0.1.evil.example", "null"])(
      "a cross-site Origin %s answers 403 CROSS_SITE_REQUEST and writes nothing",
      async (origin) => {
        const e = await refusedWithoutWrites(() =>
          wire.record(transport, request(), { cookie: owner, headers: { origin } }),
        );
        expect(e.status).toBe(403);
        expect(e.reason).toBe("CROSS_SITE_REQUEST");
      },
    );

    it("Sec-Fetch-Site: cross-site without an Origin is refused too", async () => {
      const e = errorOf(
        await wire.record(transport, request(), { cookie: owner, headers: { "sec-fetch-site": "cross-site" } }),
      );
      expect(e).toMatchObject({ status: 403, reason: "CROSS_SITE_REQUEST" });
    });

    it("the service's own Origin is accepted", async () => {
      const r = await wire.record(transport, request(), {
        cookie: owner,
        headers: { origin: app.baseUrl, "sec-fetch-site": "same-origin" },
      });
      expect(okBody(r).accepted).toBe(1);
    });

    it("an Origin listed in ALLOWED_ORIGINS is accepted", async () => {
      const r = await wire.record(transport, request(), { cookie: owner, headers: { origin: ALLOWED_ORIGIN } });
      expect(okBody(r).accepted).toBe(1);
    });
  });
});
