import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { launchBrowser, printTrailOnFailure, type TBrowser } from "../support/browser.ts";
import { createTestSite, type TSeededWorkspace, uid } from "../support/fixtures.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";
import { POLL_DEADLINE_MS, POLL_MS } from "../../client/web/dashboard/polling.ts";
import { heading, lowContrastText, recordOverRest, screenshot, unlabelledFields } from "./dashboard-page.ts";

let app: TTestApp;
let browser: TBrowser;
let page: Page;
let seed: TSeededWorkspace;
let cookie: string;
const consoleErrors: string[] = [];
const failedAssets: string[] = [];

printTrailOnFailure(() => browser);
beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace({ name: "Acme", domain: "shop.acme.test", roles: ["VIEW_ONLY"] });
  cookie = await app.login(seed.owner.email, seed.owner.password);
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on("console", (m) => void (m.type() === "error" && consoleErrors.push(m.text())));
  page.on("pageerror", (e) => void consoleErrors.push(e.message));
  page.on("response", (r) => {
    if (r.status() >= 400 && !new URL(r.url()).pathname.startsWith("/api/"))
      failedAssets.push(`${r.status()} ${r.url()}`);
  });
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const scope = () => ({ workspaceId: seed.workspace.id, siteId: seed.site.id });
const rows = () => page.locator("table.events tbody tr");
const now = Date.now();
const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString();
const visitorA = `v_a_${uid()}`;
const visitorB = `v_b_${uid()}`;
const email = `buyer-${uid()}@example.com`;

async function logIn(user: { email: string; password: string }) {
  await page.getByLabel("Email", { exact: true }).fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Log in" }).click();
}

describe("dashboard in Chromium", () => {
  it("log in: a wrong password shows the reason; the right one lists the workspace's sites", async () => {
    await page.goto(`${app.baseUrl}/app/`);
    await heading(page, "Log in");
    expect(new URL(page.url()).pathname).toBe("/app/login");
    expect(await unlabelledFields(page)).toEqual([]);
    await screenshot(page, "login");
    expect(await lowContrastText(page)).toEqual([]);

    await logIn({ email: seed.owner.email, password: "not the password" });
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/Email or password is incorrect[\s\S]*INVALID_CREDENTIALS[\s\S]*401/);

    // By keyboard alone: a fresh page focuses its heading, Tab walks the form in order, Enter submits.
    await page.reload();
    await heading(page, "Log in");
    const focused = () => page.evaluate<string>("document.activeElement.id || document.activeElement.textContent");
    await page.waitForFunction(`document.activeElement?.tagName === "H1"`);
    expect(await focused()).toBe("Log in");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("login-email");
    await page.keyboard.type(seed.owner.email);
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("login-password");
    await page.keyboard.type(seed.owner.password);
    await page.keyboard.press("Enter");
    await heading(page, "Workspaces and sites");
    expect(await page.getByLabel("Workspace").inputValue()).toBe(seed.workspace.id);
    const site = page.getByRole("row", { name: /shop\.acme\.test/ });
    await site.waitFor();
    expect(await site.innerText()).toContain(seed.site.id);
    expect(await unlabelledFields(page)).toEqual([]);
    await screenshot(page, "sites");
    expect(await lowContrastText(page)).toEqual([]);
  });

  it("live events: events recorded over REST appear without reload, newest first, with channel and rule", async () => {
    await page.getByRole("link", { name: `Live events of ${seed.site.name}` }).click();
    await heading(page, "Live events");
    expect(await page.locator(".live").innerText()).toContain("Live: checking every 2 s");
    await page.evaluate("window.noReload = true");

    const visit = await recordOverRest(app, cookie, scope(), [
      { type: "visit", visitorId: visitorA, referrer: "https://www.google.com/search", timestamp: ago(60) },
    ]);
    await page.getByRole("row", { name: /visit/ }).waitFor();
    const signup = await recordOverRest(app, cookie, scope(), [
      { type: "signup", visitorId: visitorA, email, utm: { source: "google", medium: "cpc" }, timestamp: ago(30) },
    ]);
    await page.getByRole("row", { name: /signup/ }).waitFor();

    expect(await rows().count()).toBe(2);
    const [first, second] = [await rows().nth(0).innerText(), await rows().nth(1).innerText()];
    expect(first).toContain("signup");
    expect(first).toContain(signup.events[0]!.channel);
    expect(first).toContain("utm_medium:cpc");
    expect(first).toContain(email);
    expect(first).toContain("Server");
    expect(second).toContain("visit");
    expect(second).toContain(visit.events[0]!.channel);
    expect(second).toContain(visitorA);
    expect(await page.locator("[aria-live=polite]").innerText()).toMatch(/1 new event: signup/);
    expect(await page.evaluate<boolean>("window.noReload === true")).toBe(true);
    await screenshot(page, "events");
    expect(await lowContrastText(page)).toEqual([]);
  });

  it("a profile: identifiers, stage per funnel, counters, timeline with server events and the merge", async () => {
    await recordOverRest(app, cookie, scope(), [{ type: "visit", visitorId: visitorB, timestamp: ago(50) }]);
    const identify = await recordOverRest(app, cookie, scope(), [
      { type: "identify", visitorId: visitorB, email, timestamp: ago(20) },
    ]);
    const { profileId, merged, stage } = identify.events[0]!;
    expect(merged).toHaveLength(1);
    await page.getByRole("row", { name: /identify/ }).waitFor();
    await rows()
      .nth(0)
      .getByRole("link", { name: /Profile of the identify event/ })
      .click();

    await heading(page, new RegExp(`Profile ${profileId}`));
    const identifiers = await page.getByRole("definition").allInnerTexts();
    expect(identifiers).toEqual(expect.arrayContaining([visitorA, visitorB, email]));
    const stageRow = page.getByRole("row", { name: new RegExp(seed.funnel.id) });
    expect(await stageRow.innerText()).toContain(stage);
    const counters = await page.getByLabel("Counters").innerText();
    expect(counters).toMatch(/Events\s+4/);
    expect(counters).toMatch(/Server events\s+4/);

    const timeline = page.locator("table.timeline tbody tr");
    await timeline.first().waitFor();
    const entries = await timeline.allInnerTexts();
    expect(entries.filter((e) => /\bServer\b/.test(e))).toHaveLength(4);
    const mergeEntry = entries.find((e) => e.includes("Merge"))!;
    expect(mergeEntry).toContain(`Merged profile ${merged![0]}`);
    expect(mergeEntry).toContain(`same VISITOR: ${visitorB}`);
    expect(mergeEntry).not.toContain("Server");
    await screenshot(page, "profile");
    expect(await lowContrastText(page)).toEqual([]);
  });

  it("search by email and by visitor id opens the profile; an unknown one says so", async () => {
    const profileId = (await app.db.prisma.profileIdentifier.findFirstOrThrow({ where: { value: email } })).profileId;
    for (const [by, value] of [
      ["Email", email.toUpperCase()],
      ["Visitor id", visitorB],
    ] as const) {
      await page.goto(`${app.baseUrl}/app/w/${seed.workspace.id}/sites/${seed.site.id}/events`);
      await heading(page, "Live events");
      await page.getByLabel("Find a profile by").selectOption({ label: by });
      await page.getByLabel(by, { exact: true }).fill(value);
      await page.getByRole("button", { name: "Search" }).click();
      await heading(page, `Profile ${profileId}`);
    }
    await page.getByLabel("Find a profile by").selectOption({ label: "Email" });
    await page.getByLabel("Email", { exact: true }).fill("nobody@example.com");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByText("No profile in this workspace has the email").waitFor();
  });

  it("API errors are shown with their message and reason, never a blank page", async () => {
    await page.goto(`${app.baseUrl}/app/w/${seed.workspace.id}/profiles/prf_nobody`);
    const missing = page.getByRole("alert");
    await missing.waitFor();
    expect(await missing.innerText()).toMatch(/No such profile in this workspace[\s\S]*NOT_FOUND \(HTTP 404\)/);

    await page.goto(`${app.baseUrl}/app/w/ws_not_mine/sites/${seed.site.id}/events`);
    const forbidden = page.getByRole("alert");
    await forbidden.waitFor();
    expect(await forbidden.innerText()).toMatch(
      /not a member of this workspace[\s\S]*WORKSPACE_FORBIDDEN \(HTTP 403\)/,
    );
    expect(await forbidden.innerText()).toContain("workspaceId: not a workspace you belong to");
  });

  it("install page: snippet and curl filled in; the test button records an event that shows live", async () => {
    await page.goto(`${app.baseUrl}/app/w/${seed.workspace.id}/sites/${seed.site.id}/install`);
    await heading(page, "Install");
    expect(await page.locator("#snippet").innerText()).toBe(
      `<script async src="${app.baseUrl}/fz.js" data-site="${seed.site.id}"></script>`,
    );
    expect(await page.locator("#stub").innerText()).toBe(
      "<script>window.funnelfizz=window.funnelfizz||function(){" +
        "(funnelfizz.q=funnelfizz.q||[]).push(arguments)}</script>",
    );
    const login = await page.locator("#curl-login").innerText();
    expect(login).toContain(`"email":"${seed.owner.email}"`);
    expect(login).toContain(`${app.baseUrl}/api/auth/login`);
    const record = await page.locator("#curl-record").innerText();
    expect(record).toContain(`${app.baseUrl}/api/tracking/server-events?workspaceId=${seed.workspace.id}`);
    expect(record).toContain(`"siteId":"${seed.site.id}"`);
    await screenshot(page, "install");
    expect(await lowContrastText(page)).toEqual([]);

    await page.getByRole("button", { name: "Send a test server event" }).click();
    const done = page.getByRole("status").filter({ hasText: "Recorded event" });
    await done.waitFor();
    const eventId = /Recorded event (evt_\S+)/.exec(await done.innerText())![1]!;
    const stored = await app.db.prisma.trackingEvent.findUniqueOrThrow({ where: { id: eventId } });
    expect({ type: stored.type, source: stored.source, siteId: stored.siteId }).toEqual({
      type: "dashboard_test",
      source: "SERVER",
      siteId: seed.site.id,
    });
    await page.getByRole("link", { name: "see it in live events" }).click();
    await page.locator(`tr[data-event-id="${eventId}"]`).waitFor();
  });

  it("older pages: events past the first 50 and a long timeline load on demand", async () => {
    const busy = await createTestSite(app.db.prisma, {
      workspaceId: seed.workspace.id,
      funnelId: seed.funnel.id,
      domain: "busy.acme.test",
      name: "Busy shop",
    });
    const visitor = `v_busy_${uid()}`;
    const events = Array.from({ length: 55 }, (_, i) => ({
      type: `step_${i}`,
      visitorId: visitor,
      timestamp: ago(3600 - i),
    }));
    const busyScope = { workspaceId: seed.workspace.id, siteId: busy.id };
    await recordOverRest(app, cookie, busyScope, events.slice(0, 50));
    await recordOverRest(app, cookie, busyScope, events.slice(50));

    await page.getByRole("link", { name: "All sites" }).click();
    await heading(page, "Workspaces and sites");
    await page.getByRole("link", { name: "Live events of Busy shop" }).click();
    await heading(page, "Live events");
    await rows().nth(49).waitFor();
    expect(await rows().count()).toBe(50);
    expect(await rows().first().innerText()).toContain("step_54");
    await page.getByRole("button", { name: "Load older events" }).click();
    await rows().nth(54).waitFor();
    expect(await rows().last().innerText()).toContain("step_0");
    expect(await page.getByRole("button", { name: "Load older events" }).count()).toBe(0);

    await rows().first().getByRole("link").click();
    const timeline = page.locator("table.timeline tbody tr");
    await timeline.nth(49).waitFor();
    expect(await timeline.count()).toBe(50);
    await page.getByRole("button", { name: "Older" }).click();
    await timeline.nth(54).waitFor();
    expect(await timeline.last().innerText()).toContain("step_0");
    expect(await page.getByRole("button", { name: "Older" }).count()).toBe(0);
    await page.goto(`${app.baseUrl}/app/w/${seed.workspace.id}/sites/${seed.site.id}/events`);
  });

  it("a session that ends sends the page to log in, and back after logging in", async () => {
    await heading(page, "Live events");
    await browser.context.clearCookies();
    await heading(page, "Log in");
    expect(await page.getByRole("status").first().innerText()).toContain("Your session has ended");
    await logIn(seed.owner);
    await heading(page, "Live events");
  });

  it("a poll the network never answers is given up at its deadline, and polling goes on", async () => {
    await heading(page, "Live events");
    let held = 0;
    // The next poll's request is held: never answered, as by a stalled proxy, until the page aborts it.
    await page.route("**/api/trpc/tracking.listEvents?*", () => void held++, { times: 1 });
    const alert = page.getByRole("alert");
    await alert.waitFor({ timeout: POLL_MS + POLL_DEADLINE_MS + 5_000 });
    expect(held).toBe(1);
    expect(await alert.innerText()).toContain(`did not answer within ${POLL_DEADLINE_MS / 1000} s`);

    await recordOverRest(app, cookie, scope(), [{ type: "poll_resumed", visitorId: visitorA }]);
    await page.getByRole("row", { name: /poll_resumed/ }).waitFor();
    expect(await alert.count()).toBe(0);
  }, 45_000);

  it("log out: back to the login page, and the app asks to log in again", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await heading(page, "Log in");
    expect(await page.getByText("You are logged out.").count()).toBe(1);
    await page.goto(`${app.baseUrl}/app/w/${seed.workspace.id}/sites/${seed.site.id}/events`);
    await heading(page, "Log in");
  });

  it("VIEW_ONLY: sees the events; Install shows a note, not the record curl; forced, the API refuses", async () => {
    await logIn(seed.members.VIEW_ONLY!);
    await heading(page, "Live events");
    await page.getByRole("row", { name: /identify/ }).waitFor();

    await page.getByRole("link", { name: "Install" }).click();
    await heading(page, "Install");
    const note = page.locator("#record-role-note");
    expect(await note.innerText()).toContain("Your role VIEW_ONLY can read this workspace's events but not record");
    expect(await page.locator("#curl-record").count()).toBe(0);
    expect(await page.getByRole("button", { name: "Send a test server event" }).count()).toBe(0);
    await note.scrollIntoViewIfNeeded();
    await screenshot(page, "install-view-only");
    expect(await lowContrastText(page)).toEqual([]);

    // What the button would have sent, sent anyway through the page's session: the API refuses it.
    const status = await page.evaluate(
      async (input) => {
        const res = await fetch("/api/trpc/tracking.recordServerEvents", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(input),
        });
        return [res.status, ((await res.json()) as { error: { data: { reason: string } } }).error.data.reason];
      },
      {
        workspaceId: seed.workspace.id,
        siteId: seed.site.id,
        events: [{ type: "dashboard_test", userId: "u_forced" }],
      },
    );
    expect(status).toEqual([403, "ROLE_FORBIDDEN"]);
  });

  it("the pages broke no Content-Security-Policy rule and threw nothing unexpected", () => {
    // Refusals the tests provoke (wrong password and ended session 401, forbidden 403, missing profile 404) log
    // failed requests; nothing else may.
    expect(consoleErrors.filter((m) => !/status of (401|403|404)/.test(m))).toEqual([]);
    expect(failedAssets).toEqual([]);
  });
});
