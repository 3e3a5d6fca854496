import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCookieJar, createDashboardClient } from "../../client/trpc-client.ts";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";

/** The README's typed-client example, as written there, against the app over HTTP. */
let app: TTestApp;
let seed: TSeededWorkspace;
beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace();
}, 60_000);
afterAll(() => app?.close());

describe("the typed client, logged in through itself", () => {
  it("logs in with a cookie jar, records, logs out; the session is then gone", async () => {
    const jar = createCookieJar();
    const api = createDashboardClient({ baseUrl: app.baseUrl, fetch: jar.fetch, cookie: jar.cookie });
    await api.auth.login.mutate({ email: seed.owner.email, password: seed.owner.password });
    const session = jar.cookie();
    expect(session).toMatch(/^fse\.sid=/);

    const result = await api.tracking.recordServerEvents.mutate({
      workspaceId: seed.workspace.id,
      siteId: seed.site.id,
      events: [{ type: "signup", visitorId: "v_1", email: "user@example.com" }],
    });
    expect(result).toMatchObject({ accepted: 1, duplicates: 0, events: [{ index: 0, status: "recorded" }] });

    await api.auth.logout.mutate({});
    expect(jar.cookie()).toBeUndefined();
    await expect(api.auth.me.query({})).rejects.toMatchObject({ data: { code: "UNAUTHORIZED" } });
    const replayed = createDashboardClient({ baseUrl: app.baseUrl, cookie: session });
    await expect(replayed.auth.me.query({})).rejects.toMatchObject({ data: { httpStatus: 401 } });
  });
});
