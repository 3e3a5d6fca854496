import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TTestApp } from "../support/test-app.ts";

/**
 * `/metrics` names every route, Stripe event type and collect outcome: not for anyone. With
 * METRICS_TOKEN it is served on the public port only for `Authorization: Bearer <token>`; without
 * one, not on the public port at all (the loopback listener: tests/integration/metrics-listener).
 */
let withToken: TTestApp;
let withoutToken: TTestApp;
beforeAll(async () => {
  withToken = await startTestApp();
  withoutToken = await startTestApp({ config: { METRICS_TOKEN: "" } });
});
afterAll(async () => {
  await withToken?.close();
  await withoutToken?.close();
});

const metrics = (app: TTestApp, authorization?: string) =>
  fetch(`${app.baseUrl}/metrics`, { headers: authorization ? { authorization } : {} });

describe("/metrics on the public port", () => {
  it("with a token configured: 401 without the right bearer token", async () => {
    const token = withToken.config.metrics.token!;
    const wrong = `${token.slice(0, -1)}${token.endsWith("a") ? "b" : "a"}`;
    for (const authorization of [undefined, `Bearer ${wrong}`, `Bearer ${token}x`, `Basic ${token}`, token]) {
      const res = await metrics(withToken, authorization);
      expect(res.status, String(authorization)).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const text = await res.text();
      expect(JSON.parse(text)).toMatchObject({ data: { reason: "UNAUTHENTICATED" } });
      expect(text).not.toMatch(/http_request_duration_seconds/);
    }
  });

  it("with the right token: 200 and the series", async () => {
    await fetch(`${withToken.baseUrl}/healthz`);
    const res = await metrics(withToken, `Bearer ${withToken.config.metrics.token}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^http_request_duration_seconds_count\{[^}]*route="\/healthz"[^}]*\} [1-9]/m);
  });

  it("without a token configured: not served there at all (404), whatever the request carries", async () => {
    for (const authorization of [undefined, "Bearer anything-at-all-anything-at-all"]) {
      const res = await metrics(withoutToken, authorization);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toMatch(/http_request_duration_seconds/);
    }
  });
});
