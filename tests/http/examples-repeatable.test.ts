import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asValidId } from "../../client/web/dashboard/ids.ts";
import { recordCurl } from "../../client/web/dashboard/install-code.ts";
import { formatBanner } from "../../server/banner.ts";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { jsonOf, startTestApp, type TTestApp } from "../support/test-app.ts";

/**
 * The record commands a newcomer copies (the start-up banner's, the Install page's, the README's
 * and docs/api.md's) are safe to run twice: each carries a messageId, so the second run answers
 * `duplicate`; and their visitor ids look like the snippet's (`v_` + 32 hex digits).
 */
const root = path.resolve(import.meta.dirname, "../..");
let app: TTestApp;
let seed: TSeededWorkspace;
let cookie: string;
beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace();
  cookie = await app.login(seed.owner.email, seed.owner.password);
});
afterAll(() => app?.close());

type TBody = { siteId: string; events: { visitorId?: string; messageId?: string }[] };

/** The JSON after `-d '` in a shell command, up to the closing quote. */
function bodyOf(command: string): TBody {
  const match = /-d '([\s\S]*?)'/.exec(command);
  if (!match?.[1]) throw new Error(`no -d '…' body in: ${command}`);
  return JSON.parse(match[1]) as TBody;
}

/** The documented record command of a Markdown file: the shell block posting to /server-events. */
async function documentedBody(file: string): Promise<TBody> {
  const text = await readFile(path.join(root, file), "utf8");
  const block = [...text.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? "")
    .find((b) => b.includes("/api/tracking/server-events"));
  if (!block) throw new Error(`${file} shows no record command`);
  return bodyOf(block);
}

async function send(body: TBody): Promise<string[]> {
  const res = await fetch(`${app.baseUrl}/api/tracking/server-events?workspaceId=${seed.workspace.id}`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify({ ...body, siteId: seed.site.id }),
  });
  expect(res.status).toBe(200);
  return (await jsonOf<{ events: { status: string }[] }>(res)).events.map((e) => e.status);
}

describe("every record example is safe to repeat", () => {
  const sources: [string, () => Promise<TBody>][] = [
    [
      "the banner",
      () => {
        const banner = formatBanner({
          base: "http://localhost:3000",
          database: "embedded",
          demo: { email: "demo@example.com", password: "p", workspaceId: "ws_1", siteId: "site_1", funnelId: "fnl_1" },
          seedDemo: true,
        });
        const line = banner.split("\n").find((l) => l.includes('-d \'{"siteId"'));
        return Promise.resolve(bodyOf(line ?? ""));
      },
    ],
    [
      "the Install page",
      () => {
        const [ws, site] = [asValidId(seed.workspace.id), asValidId(seed.site.id)];
        if (!ws || !site) throw new Error("the seeded ids are not valid ids");
        return Promise.resolve(bodyOf(recordCurl("http://localhost:3000", ws, site)));
      },
    ],
    ["the README", () => documentedBody("README.md")],
    ["docs/api.md", () => documentedBody("docs/api.md")],
  ];
  for (const [name, bodyFrom] of sources) {
    it(`${name}: a messageId and a real-looking visitor id; run twice, recorded once`, async () => {
      const body = await bodyFrom();
      for (const event of body.events) {
        expect(event.messageId).toBeTruthy();
        if (event.visitorId !== undefined) expect(event.visitorId).toMatch(/^v_[0-9a-f]{32}$/);
      }
      const [first, second] = [await send(body), await send(body)];
      expect(second).toEqual(first.map(() => "duplicate"));
    });
  }
});
