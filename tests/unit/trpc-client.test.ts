import { describe, expect, it } from "vitest";
import { createCookieJar, createDashboardClient } from "../../client/trpc-client.ts";

/** Answers like the tRPC HTTP adapter and records what the client sent. */
function fakeTrpc(respond: (url: string) => { data: unknown; setCookie?: string }) {
  const requests: { url: string; method: string; cookie: string | null }[] = [];
  const fetch = ((input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = request.url;
    requests.push({ url, method: request.method, cookie: request.headers.get("cookie") });
    const { data, setCookie } = respond(url);
    const headers = new Headers({ "content-type": "application/json" });
    if (setCookie) headers.append("set-cookie", setCookie);
    return Promise.resolve(new Response(JSON.stringify({ result: { data } }), { status: 200, headers }));
  }) as typeof globalThis.fetch;
  return { fetch, requests };
}

const me = { user: { id: "usr_1", email: "a@b.c", name: null }, workspaces: [] };

describe("createDashboardClient", () => {
  it("calls /api/trpc/<path> with the session cookie, one request per call", async () => {
    const server = fakeTrpc(() => ({ data: me }));
    const client = createDashboardClient({ baseUrl: "http://api.test/", cookie: "fse.sid=abc", fetch: server.fetch });
    await expect(client.auth.me.query({})).resolves.toEqual(me);
    await client.auth.me.query({});
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]).toEqual({
      url: "http://api.test/api/trpc/auth.me?input=%7B%7D",
      method: "GET",
      cookie: "fse.sid=abc",
    });
  });

  it("sends no cookie header without a session", async () => {
    const server = fakeTrpc(() => ({ data: me }));
    await createDashboardClient({ baseUrl: "http://api.test", fetch: server.fetch }).auth.me.query({});
    expect(server.requests[0]!.cookie).toBeNull();
  });

  it("with a cookie jar, keeps the session a login sets and drops it on logout", async () => {
    const server = fakeTrpc((url) =>
      url.endsWith("auth.login")
        ? { data: me, setCookie: "fse.sid=s%3Anew; Path=/; HttpOnly; SameSite=Lax" }
        : url.endsWith("auth.logout")
          ? { data: { ok: true }, setCookie: "fse.sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT" }
          : { data: me },
    );
    const jar = createCookieJar(server.fetch);
    const client = createDashboardClient({ baseUrl: "http://api.test", fetch: jar.fetch, cookie: jar.cookie });
    await client.auth.login.mutate({ email: "a@b.c", password: "pw" });
    await client.auth.me.query({});
    await client.auth.logout.mutate({});
    await client.auth.me.query({});
    expect(server.requests.map((r) => [r.method, r.cookie])).toEqual([
      ["POST", null],
      ["GET", "fse.sid=s%3Anew"],
      ["POST", "fse.sid=s%3Anew"],
      ["GET", null],
    ]);
  });
});
