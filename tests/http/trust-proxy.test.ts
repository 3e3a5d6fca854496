import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueEmail } from "../support/fixtures.ts";
import { requestFrom, startForwardingProxy } from "../support/forwarding-proxy.ts";
import { startTestApp, type TTestApp } from "../support/test-app.ts";

/**
 * Every per-IP limit behind a real proxy hop: the proxy (forwarding from 127.0.0.2) appends the
 * peer it saw to X-Forwarded-For, two clients (127.0.0.3 and .4) reach the app only through it,
 * and the first forges a new X-Forwarded-For on every request.
 */
const PROXY_ADDRESS = "127.0.0.2";
const FORGER = "127.0.0.3";
const NEIGHBOUR = "127.0.0.4";
const LIMIT = 3;

let forged = 0;
const forgedFor = () => `198.51.100.${++forged}`;

type TLimit = (via: string, client: string, headers: Record<string, string>) => Promise<number>;

/** One refused attempt at each per-IP budget: a failed login, a wrong API key, a tracking batch. */
const LIMITS: Record<string, TLimit> = {
  "login failures": async (via, client, headers) =>
    (
      await requestFrom(client, `${via}/api/auth/login`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ email: uniqueEmail("guess"), password: "wrong" }),
      })
    ).status,
  "API key failures": async (via, client, headers) =>
    (
      await requestFrom(client, `${via}/mcp`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json", authorization: "Bearer ff_wrong" },
        body: "{}",
      })
    ).status,
  "collect batches": async (via, client, headers) =>
    (
      await requestFrom(client, `${via}/api/collect?site=site_unknown`, {
        method: "POST",
        headers: { ...headers, "content-type": "text/plain;charset=UTF-8", origin: "https://shop.example.com" },
        body: JSON.stringify({ events: [] }),
      })
    ).status,
};

describe.each([
  { trustProxy: "1", forgerLimited: true, neighbourShares: false },
  { trustProxy: PROXY_ADDRESS, forgerLimited: true, neighbourShares: false },
  { trustProxy: `loopback`, forgerLimited: false, neighbourShares: false },
  { trustProxy: "false", forgerLimited: true, neighbourShares: true },
  { trustProxy: "true", forgerLimited: false, neighbourShares: false },
])("TRUST_PROXY=$trustProxy behind one proxy", ({ trustProxy, forgerLimited, neighbourShares }) => {
  let app: TTestApp;
  let proxy: Awaited<ReturnType<typeof startForwardingProxy>>;
  beforeAll(async () => {
    app = await startTestApp({
      config: {
        TRUST_PROXY: trustProxy,
        LOGIN_MAX_FAILURES_PER_IP: String(LIMIT),
        API_KEY_MAX_FAILURES_PER_IP: String(LIMIT),
        COLLECT_IP_RATE_LIMIT: String(LIMIT),
      },
    });
    proxy = await startForwardingProxy(app.baseUrl, PROXY_ADDRESS);
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await app?.close();
  });

  const what = forgerLimited
    ? neighbourShares
      ? "the proxy's address is every client's: one budget for all"
      : "a forged X-Forwarded-For does not help: the address the proxy appended counts"
    : "each forged X-Forwarded-For is believed: a new budget every time";

  it.each(Object.keys(LIMITS))(`%s: ${what}`, async (name) => {
    const attempt = LIMITS[name]!;
    const statuses = [];
    for (let i = 0; i < LIMIT + 2; i++)
      statuses.push(await attempt(proxy.url, FORGER, { "x-forwarded-for": forgedFor() }));
    const refused = statuses.filter((s) => s === 429).length;
    expect(refused).toBe(forgerLimited ? 2 : 0);
    expect(statuses.slice(0, LIMIT)).not.toContain(429);
    const neighbour = await attempt(proxy.url, NEIGHBOUR, {});
    expect(neighbour === 429).toBe(neighbourShares);
  });
});
