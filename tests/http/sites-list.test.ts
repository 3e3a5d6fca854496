import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDashboardClient } from "../../client/trpc-client.ts";
import { createTestSite, type TSeededWorkspace } from "../support/fixtures.ts";
import { jsonOf, startTestApp, type TErrorBody, type TTestApp } from "../support/test-app.ts";

let app: TTestApp;
let seed: TSeededWorkspace;
let second: Awaited<ReturnType<typeof createTestSite>>;

beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace({ roles: ["VIEW_ONLY"], domain: "first.example.com" });
  second = await createTestSite(app.db.prisma, {
    workspaceId: seed.workspace.id,
    funnelId: seed.funnel.id,
    domain: "Second.Example.com",
    name: "Second shop",
  });
  // Another tenant's site must never show up.
  await app.seedWorkspace({ domain: "other-tenant.example.com" });
});
afterAll(() => app?.close());

const listOverRest = (workspaceId: string, cookie?: string) =>
  fetch(`${app.baseUrl}/api/sites?workspaceId=${encodeURIComponent(workspaceId)}`, {
    headers: cookie ? { cookie } : {},
  });

describe("sites.list", () => {
  it("REST: the workspace's sites, oldest first: id, name, domain, funnel; any member may read", async () => {
    const off = { identityVerification: { required: false, secretSet: false } };
    const expected = {
      items: [
        { id: seed.site.id, name: "first.example.com", domain: "first.example.com", funnelId: seed.funnel.id, ...off },
        { id: second.id, name: "Second shop", domain: "second.example.com", funnelId: seed.funnel.id, ...off },
      ],
    };
    for (const user of [seed.owner, seed.members.VIEW_ONLY!]) {
      const res = await listOverRest(seed.workspace.id, await app.login(user.email, user.password));
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(await res.json()).toEqual(expected);
    }
  });

  it("tRPC: the typed client answers the same list", async () => {
    const cookie = await app.login(seed.owner.email, seed.owner.password);
    const client = createDashboardClient({ baseUrl: app.baseUrl, cookie });
    const { items } = await client.sites.list.query({ workspaceId: seed.workspace.id });
    expect(items.map((s) => s.id)).toEqual([seed.site.id, second.id]);
  });

  it("refuses a caller without a session (401) and a non-member (403, naming workspaceId)", async () => {
    const anonymous = await listOverRest(seed.workspace.id);
    expect(anonymous.status).toBe(401);
    expect((await jsonOf<TErrorBody>(anonymous)).data.reason).toBe("UNAUTHENTICATED");

    const outsider = await listOverRest(
      seed.workspace.id,
      await app.login(seed.outsider.email, seed.outsider.password),
    );
    expect(outsider.status).toBe(403);
    const body = await jsonOf<TErrorBody>(outsider);
    expect(body.data.reason).toBe("WORKSPACE_FORBIDDEN");
    expect(body.data.issues.map((i) => i.path)).toEqual([["workspaceId"]]);
  });

  it("a missing workspaceId is a 400 naming the field", async () => {
    const cookie = await app.login(seed.owner.email, seed.owner.password);
    const res = await fetch(`${app.baseUrl}/api/sites`, { headers: { cookie } });
    expect(res.status).toBe(400);
    expect((await jsonOf<TErrorBody>(res)).data.issues.map((i) => i.path)).toContainEqual(["workspaceId"]);
  });
});
