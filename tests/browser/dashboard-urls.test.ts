import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { launchBrowser, printTrailOnFailure, type TBrowser } from "../support/browser.ts";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";
import { paths } from "../../client/web/dashboard/routes.ts";
import { heading } from "./dashboard-page.ts";

/** Hostile and malformed dashboard URLs: the Install page's ids, bad percent-encoding, pages that throw. */
let app: TTestApp;
let browser: TBrowser;
let page: Page;
let mine: TSeededWorkspace;
let theirs: TSeededWorkspace;
const pageErrors: string[] = [];
const evilRequests: string[] = [];

printTrailOnFailure(() => browser);
beforeAll(async () => {
  app = await startTestApp();
  mine = await app.seedWorkspace({ name: "Mine" });
  theirs = await app.seedWorkspace({ name: "Theirs" });
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on("pageerror", (e) => void pageErrors.push(e.message));
  page.on("request", (r) => void (new URL(r.url()).hostname.endsWith("evil.test") && evilRequests.push(r.url())));
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: app.baseUrl });
  await page.goto(`${app.baseUrl}/app/`);
  await page.getByLabel("Email", { exact: true }).fill(mine.owner.email);
  await page.getByLabel("Password").fill(mine.owner.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await heading(page, "Workspaces and sites");
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const HOSTILE_SITE_ID = `x"></script><script src="https://evil.test/x.js"></script><script x="`;
const open = (path: string) => page.goto(`${app.baseUrl}${path}`);
const html = () => page.evaluate<string>("document.documentElement.outerHTML");
const copyTexts = async () => {
  const texts: string[] = [];
  for (const button of await page.getByRole("button", { name: "Copy" }).all()) {
    await button.click();
    texts.push(await page.evaluate<string>("navigator.clipboard.readText()"));
  }
  return texts;
};

describe("Install page: only a site of the workspace, only its validated ids", () => {
  it("a hostile site id in the URL shows the not-found state and nothing of the id", async () => {
    for (const path of [
      paths.install(mine.workspace.id, HOSTILE_SITE_ID),
      // The same, written raw: its slashes make it no route at all.
      `/app/w/${mine.workspace.id}/sites/${HOSTILE_SITE_ID}/install`,
    ]) {
      await open(path);
      await heading(page, /No such site in this workspace|Page not found/);
      expect(await html()).not.toContain("evil.test");
      expect(await page.locator("script[src*='evil']").count()).toBe(0);
      expect(await copyTexts()).toEqual([]);
      await page.getByRole("link", { name: "Go to your sites" }).waitFor();
    }
    await open(paths.install(mine.workspace.id, HOSTILE_SITE_ID));
    await heading(page, "No such site in this workspace");
    expect(evilRequests).toEqual([]);
  });

  it("a site of another workspace is not found, under my workspace or under its own", async () => {
    await open(paths.install(mine.workspace.id, theirs.site.id));
    await heading(page, "No such site in this workspace");
    expect(await html()).not.toContain(theirs.site.id);
    expect(await copyTexts()).toEqual([]);

    await open(paths.install(theirs.workspace.id, theirs.site.id));
    await heading(page, "No such site in this workspace");
    expect(await page.getByRole("alert").innerText()).toMatch(/WORKSPACE_FORBIDDEN \(HTTP 403\)/);
    expect(await page.locator("pre code").count()).toBe(0);
  });

  it("a site of the workspace shows its tag, and Copy copies exactly the code shown", async () => {
    await open(paths.install(mine.workspace.id, mine.site.id));
    await heading(page, "Install");
    const tag = `<script async src="${app.baseUrl}/fz.js" data-site="${mine.site.id}"></script>`;
    expect(await page.locator("#snippet").innerText()).toBe(tag);
    const copied = await copyTexts();
    expect(copied[0]).toBe(tag);
    expect(copied).toEqual(await page.locator("pre code").allInnerTexts());
    expect(copied.join("\n")).toContain(`"siteId":"${mine.site.id}"`);
  });
});

describe("malformed URLs and pages that throw: an error page in the shell, never a blank page", () => {
  it("bad percent-encoding in the path (finding row 8) or the query shows the error page", async () => {
    for (const [path, part] of [
      ["/app/w/%E0%A4%A/search?by=email&q=a", "path"],
      [`/app/w/${mine.workspace.id}/search?by=email&q=%E0%A4%A`, "query string"],
    ] as const) {
      await open(path);
      await heading(page, "This address is not valid");
      expect(await page.getByRole("alert").innerText()).toContain(`The ${part} of this address has a malformed`);
      expect(await page.getByRole("button", { name: "Log out" }).count()).toBe(1);
    }
    await page.getByRole("link", { name: "Go to your sites" }).click();
    await heading(page, "Workspaces and sites");
    expect(pageErrors).toEqual([]);
  });

  it("an unknown path shows the not-found page in the shell", async () => {
    await open(`/app/w/${mine.workspace.id}/nothing-here`);
    await heading(page, "Page not found");
    expect(await page.getByRole("link", { name: "Funnel dashboard" }).count()).toBe(1);
  });

  it("a page that throws while rendering shows the error page with the message, no stack", async () => {
    // The next site list arrives with `items` broken, as from a faulty proxy: the home page's table throws.
    await page.route(
      "**/api/trpc/sites.list?*",
      async (route) => {
        const answer = await route.fetch();
        const body = (await answer.json()) as { result: { data: { items: unknown } } };
        body.result.data.items = 5;
        await route.fulfill({ response: answer, json: body });
      },
      { times: 1 },
    );
    await open("/app/");
    await heading(page, "Something went wrong");
    const alert = await page.getByRole("alert").innerText();
    expect(alert).toMatch(/This page failed to show: .*is not a function/);
    expect(alert).not.toMatch(/\bat |\.js:\d/);
    expect(await page.getByRole("button", { name: "Log out" }).count()).toBe(1);

    await open("/app/");
    await page.getByRole("row", { name: mine.site.name }).waitFor();
  });
});
