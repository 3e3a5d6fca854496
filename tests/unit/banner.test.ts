import { describe, expect, it } from "vitest";
import { formatBanner, startupWarnings } from "../../server/banner.ts";
import { loadConfig } from "../../server/config.ts";

const base = "http://localhost:3000";
const demo = {
  email: "demo@example.com",
  password: "pw-123",
  workspaceId: "ws_1",
  siteId: "site_1",
  funnelId: "fnl_1",
};

describe("the start-up banner", () => {
  it("shows a demo login created by this start, with commands that use it", () => {
    const text = formatBanner({ base, database: "embedded", demo, seedDemo: true });
    expect(text).toContain(`Server-side events API on ${base}`);
    expect(text).toMatch(new RegExp(`^\\s+Dashboard: ${base}/app/$`, "m"));
    expect(text).toMatch(/^\s+password\s+pw-123$/m);
    expect(text).toContain(`-d '{"email":"demo@example.com","password":"pw-123"}' ${base}/api/auth/login`);
    expect(text).toContain(`'${base}/api/tracking/server-events?workspaceId=ws_1'`);
    expect(text).not.toContain("stop the server");
  });

  it("prints a read-back command that finds the profile the record command writes", () => {
    const text = formatBanner({ base, database: "embedded", demo, seedDemo: true });
    expect(text).toContain('"visitorId":"v_8f14e45fceea167a5a36dedd4bea2543"');
    expect(text).toContain(
      `curl -b cookies.txt '${base}/api/profiles/lookup?workspaceId=ws_1&visitorId=v_8f14e45fceea167a5a36dedd4bea2543'`,
    );
  });

  it("prints the tracking snippet's tag for the site", () => {
    const text = formatBanner({ base, database: "embedded", demo, seedDemo: true });
    expect(text).toContain(`<script async src="${base}/fz.js" data-site="site_1"></script>`);
  });

  it("later starts show the workspace and site ids again, with the commands, but never a password", () => {
    const known = {
      workspaceId: "ws_9",
      workspaceName: "Demo workspace",
      isDemo: true,
      siteId: "site_9",
      domain: "example.com",
    };
    const text = formatBanner({ base, database: "embedded", demo: null, known, seedDemo: true });
    expect(text).toMatch(/^\s+Workspace ws_9 \(Demo workspace\)$/m);
    expect(text).toMatch(/^\s+Site\s+site_9 \(example\.com\)$/m);
    expect(text).toContain(`-d '{"email":"demo@example.com","password":"<password>"}'`);
    expect(text).toContain(`'${base}/api/tracking/server-events?workspaceId=ws_9'`);
    expect(text).toContain(
      `'${base}/api/profiles/lookup?workspaceId=ws_9&visitorId=v_8f14e45fceea167a5a36dedd4bea2543'`,
    );
    expect(text).not.toContain("Demo login");
    expect(text).not.toMatch(/^\s+password\s/m);
  });

  it("PostgreSQL, a workspace that is not the demo's: its ids, and a login to fill in", () => {
    const known = { workspaceId: "ws_7", workspaceName: "Acme", isDemo: false, siteId: null, domain: null };
    const text = formatBanner({ base, database: "postgres", demo: null, known, seedDemo: false });
    expect(text).toMatch(/^\s+Workspace ws_7 \(Acme\)$/m);
    expect(text).not.toMatch(/^\s+Site/m);
    expect(text).toContain("alongside the server");
  });

  it("embedded, later starts: the CLI runs alongside the server, and the demo user is named", () => {
    const text = formatBanner({ base, database: "embedded", demo: null, seedDemo: true });
    expect(text).toContain("alongside the server; it runs the command for the CLI");
    expect(text).not.toContain("stop the server");
    expect(text).toContain("the demo user is demo@example.com");
    expect(text).not.toContain("Demo login");
  });

  it("PostgreSQL: no demo user and no need to stop the server", () => {
    const text = formatBanner({ base, database: "postgres", demo: null, seedDemo: false });
    expect(text).toContain("alongside the server");
    expect(text).toContain("npm run admin -- user create --email you@example.com --password -");
    expect(text).not.toMatch(/demo|stop the server/i);
  });
});

describe("start-up warnings", () => {
  const production = {
    NODE_ENV: "production",
    SESSION_SECRET: "x".repeat(32),
    SECRETS_KEY: "ab".repeat(32),
    DATABASE_URL: "postgresql://h/db",
    REDIS_URL: "redis://h",
  };

  it("production without TRUST_PROXY: the Secure cookie will never be set over plain HTTP", () => {
    const [warning, ...rest] = startupWarnings(loadConfig(production));
    expect(rest).toEqual([]);
    expect(warning).toMatch(/login answers 200 but sets no cookie.*TRUST_PROXY/);
  });

  it.each(["1", "loopback", "10.0.0.7"])("production with TRUST_PROXY=%s: nothing to say", (trustProxy) => {
    expect(startupWarnings(loadConfig({ ...production, TRUST_PROXY: trustProxy }))).toEqual([]);
  });

  it("TRUST_PROXY=true outside production: every client could choose its address, said at start-up", () => {
    const configured = { NODE_ENV: "development", SESSION_SECRET: "y".repeat(32), SECRETS_KEY: "cd".repeat(32) };
    expect(startupWarnings(loadConfig({ ...configured, TRUST_PROXY: "true" }))).toEqual([
      expect.stringMatching(/^TRUST_PROXY=true .*choose its address.*per-IP limit/),
    ]);
    expect(startupWarnings(loadConfig({ ...configured, TRUST_PROXY: "1" }))).toEqual([]);
  });

  it("development without SESSION_SECRET or SECRETS_KEY: nothing survives a restart or is shared", () => {
    expect(startupWarnings(loadConfig({ NODE_ENV: "development" }))).toEqual([
      expect.stringMatching(/^SESSION_SECRET not set/),
      expect.stringMatching(/^SECRETS_KEY not set: .*Stripe signing secrets/),
    ]);
    const configured = { NODE_ENV: "development", SESSION_SECRET: "y".repeat(32), SECRETS_KEY: "cd".repeat(32) };
    expect(startupWarnings(loadConfig(configured))).toEqual([]);
  });
});
