import { readFileSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerProcess, type TServerProcess } from "../support/server-process.ts";

/**
 * The embedded default with nothing configured keeps what it is given across a restart: the
 * generated session secret and secrets key are kept in DATA_DIR/secrets.json (0600) and the
 * sessions in the embedded database, so a login and a Stripe signing secret set over REST still
 * work after the server was stopped and started again.
 */
let dataDir: string;
let server: TServerProcess | undefined;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "fse-restart-"));
});
afterAll(async () => {
  server?.kill();
  await rm(dataDir, { recursive: true, force: true });
});

const field = (text: string, name: string) => new RegExp(`^\\s+${name}\\s+(\\S+)$`, "m").exec(text)?.[1] ?? "";

async function start(): Promise<string> {
  server = startServerProcess({ DATA_DIR: dataDir, SECRETS_KEY: "" });
  return server.listening();
}

async function stop(): Promise<void> {
  server?.child.kill("SIGTERM");
  expect(await server?.exited).toBe(0);
}

describe("a restart of the embedded default", () => {
  it("keeps logins and Stripe signing secrets, with the generated secrets in a 0600 file", async () => {
    let base = await start();
    const banner = server!.output();
    const [email, password, workspaceId, siteId] = ["email", "password", "workspace", "site"].map((n) =>
      field(banner, n),
    );
    expect(banner).toContain("secrets.json");
    const login = await fetch(`${base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.getSetCookie()[0]!.split(";", 1)[0]!;
    const secret = "whsec_restart_test_0123456789abcdef";
    const set = await fetch(`${base}/api/sites/stripe-secret?workspaceId=${workspaceId}`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({ siteId, secret }),
    });
    expect(set.status).toBe(200);
    await stop();

    const file = await stat(path.join(dataDir, "secrets.json"));
    expect(file.mode & 0o777).toBe(0o600);

    base = await start();
    const me = await fetch(`${base}/api/auth/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    const payload = readFileSync(
      new URL("../fixtures/stripe/checkout.session.completed.json", import.meta.url),
      "utf8",
    );
    const delivered = await fetch(`${base}/api/webhooks/stripe/${siteId}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "stripe-signature": Stripe.webhooks.generateTestHeaderString({ payload, secret }),
      },
      body: payload,
    });
    expect(delivered.status).toBe(200);
    expect(((await delivered.json()) as { outcome: string }).outcome).toBe("recorded");
    await stop();
  }, 300_000);
});
