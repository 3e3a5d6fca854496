import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/config.ts";

const PRODUCTION = {
  NODE_ENV: "production",
  SESSION_SECRET: "s".repeat(32),
  SECRETS_KEY: "a".repeat(64),
  DATABASE_URL: "postgresql://app@db:5432/app",
  REDIS_URL: "redis://cache:6379",
};

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected loadConfig to fail");
}

describe("loadConfig", () => {
  it("runs embedded with in-memory sessions when nothing is configured", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: "development",
      production: false,
      host: "0.0.0.0",
      port: 3000,
      database: { url: undefined, dataDir: ".data", poolMax: 10, queryTimeoutMs: 30_000 },
      redis: undefined,
      trustProxy: false,
      allowedOrigins: [],
      seedDemo: true,
      logLevel: "info",
    });
    expect(config.session).toMatchObject({
      cookieName: "fse.sid",
      secureCookie: false,
      secretConfigured: false,
      ttlSeconds: 7 * 24 * 3600,
    });
    expect(config.session.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(config.limits).toEqual({
      serverEvents: { points: 600, durationSeconds: 3600 },
      loginPerEmail: { points: 5, durationSeconds: 900 },
      loginPerIp: { points: 100, durationSeconds: 3600 },
      loginPerEmailAndIp: { points: 1, durationSeconds: 3600 },
      apiKey: { points: 600, durationSeconds: 3600 },
      apiKeyFailuresPerIp: { points: 20, durationSeconds: 900 },
      bodyBytes: 1024 * 1024,
    });
  });

  it("treats empty strings as unset", () => {
    expect(loadConfig({ PORT: "", REDIS_URL: "" })).toMatchObject({ port: 3000, redis: undefined });
  });

  it("reads numbers and URLs", () => {
    const config = loadConfig({
      PORT: "8080",
      REDIS_URL: "redis://r:6379",
      REDIS_KEY_PREFIX: "x:",
      DATABASE_URL: "postgres://u@h/d",
      LOGIN_MAX_FAILURES_PER_EMAIL: "2",
    });
    expect(config.port).toBe(8080);
    expect(config.redis).toEqual({ url: "redis://r:6379", keyPrefix: "x:" });
    expect(config.database.url).toBe("postgres://u@h/d");
    expect(config.limits.loginPerEmail.points).toBe(2);
    expect(config.seedDemo).toBe(false);
  });

  it.each([
    ["PORT", "not-a-number"],
    ["PORT", "70000"],
    ["DATABASE_URL", "mysql://localhost/app"],
    ["REDIS_URL", "localhost:6379"],
    ["SESSION_SECRET", "too-short"],
    ["NODE_ENV", "staging"],
    ["LOG_LEVEL", "verbose"],
    ["BODY_LIMIT_BYTES", "10"],
    ["SEED_DEMO", "maybe"],
    ["TRUST_PROXY", "yes"],
    ["TRUST_PROXY", "10.0.0.0/99"],
    ["TRUST_PROXY", "-1"],
    ["TRUST_PROXY", "1.5"],
    ["TRUST_PROXY", "10.0.0.1/8/8"],
    ["TRUST_PROXY", "anywhere"],
    ["LOGIN_EMAIL_AND_IP_WINDOW_SECONDS", "0"],
    ["COLLECT_IDENTITY_RATE_LIMIT", "0"],
    ["ALLOWED_ORIGINS", "not an origin"],
    ["ALLOWED_ORIGINS", "https://app.example.com/dashboard"],
  ])("names the variable when %s=%s is invalid", (name, value) => {
    const message = configError({ [name]: value });
    expect(message).toContain(`${name}:`);
    expect(message.split("\n")).toHaveLength(2);
  });

  it("refuses production without a session secret, PostgreSQL and Redis, naming each", () => {
    const message = configError({ NODE_ENV: "production" });
    for (const name of ["SESSION_SECRET", "SECRETS_KEY", "REDIS_URL", "DATABASE_URL"])
      expect(message).toContain(`${name}: required when NODE_ENV=production`);
    const { REDIS_URL: _, ...withoutRedis } = PRODUCTION;
    const onlyRedis = configError(withoutRedis);
    expect(onlyRedis).toContain("REDIS_URL");
    expect(onlyRedis).not.toContain("SESSION_SECRET");
  });

  it("refuses TRUST_PROXY=true in production, naming it and why; a hop count or a list is fine", () => {
    const message = configError({ ...PRODUCTION, TRUST_PROXY: "true" });
    expect(message.split("\n")).toHaveLength(2);
    expect(message).toMatch(
      /TRUST_PROXY: true is refused when NODE_ENV=production: every client could choose its address/,
    );
    expect(configError({ NODE_ENV: "production", TRUST_PROXY: "true" })).toMatch(/SESSION_SECRET[^]*TRUST_PROXY: true/);
    expect(loadConfig({ ...PRODUCTION, TRUST_PROXY: "1" }).trustProxy).toBe(1);
    expect(loadConfig({ ...PRODUCTION, TRUST_PROXY: "10.0.0.0/8,fd00::1" }).trustProxy).toEqual([
      "10.0.0.0/8",
      "fd00::1",
    ]);
    expect(loadConfig({ NODE_ENV: "development", TRUST_PROXY: "true" }).trustProxy).toBe(true);
  });

  it("reads SECRETS_KEY as 32 bytes of hex or base64 and refuses any other length, naming it", () => {
    const hex = "0123456789abcdef".repeat(4);
    expect(loadConfig({ ...PRODUCTION, SECRETS_KEY: hex }).secrets.key).toEqual(Buffer.from(hex, "hex"));
    const base64 = Buffer.alloc(32, 7).toString("base64");
    expect(loadConfig({ ...PRODUCTION, SECRETS_KEY: base64 }).secrets).toEqual({
      key: Buffer.alloc(32, 7),
      keyConfigured: true,
    });
    expect(configError({ ...PRODUCTION, SECRETS_KEY: Buffer.alloc(16).toString("base64") })).toContain(
      "SECRETS_KEY: must be 32 bytes",
    );
    const dev = loadConfig({ NODE_ENV: "development" }).secrets;
    expect(dev.keyConfigured).toBe(false);
    expect(dev.key).toHaveLength(32);
  });

  it("in production uses Secure cookies and the configured secret, and does not seed", () => {
    const config = loadConfig(PRODUCTION);
    expect(config.production).toBe(true);
    expect(config.session).toMatchObject({ secret: "s".repeat(32), secretConfigured: true, secureCookie: true });
    expect(config.seedDemo).toBe(false);
  });

  it.each([
    ["true", true],
    ["false", false],
    ["1", 1],
    ["2", 2],
    ["0", 0],
    ["loopback", ["loopback"]],
    ["linklocal,uniquelocal", ["linklocal", "uniquelocal"]],
    ["203.0.113.7", ["203.0.113.7"]],
    ["loopback, 10.0.0.0/8 ,::1,192.168.0.0/255.255.0.0", ["loopback", "10.0.0.0/8", "::1", "192.168.0.0/255.255.0.0"]],
  ] as const)("parses TRUST_PROXY=%s", (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it("normalizes ALLOWED_ORIGINS to what browsers send as Origin", () => {
    const config = loadConfig({
      ALLOWED_ORIGINS: " https://App.Example.com/ ,http://localhost:5173,https://b.example.com:443",
    });
    expect(config.allowedOrigins).toEqual([
      "https://app.example.com",
      "http://localhost:5173",
      "https://b.example.com",
    ]);
  });
});

describe("where /metrics is served", () => {
  const token = "t".repeat(32);

  it("by default (production too): on its own loopback listener only, no token", () => {
    expect(loadConfig({}).metrics).toEqual({ token: undefined, listen: { host: "127.0.0.1", port: 9464 } });
    expect(loadConfig(PRODUCTION).metrics).toEqual({ token: undefined, listen: { host: "127.0.0.1", port: 9464 } });
  });

  it("with METRICS_TOKEN: on the public port behind it, no listener unless METRICS_PORT asks for one", () => {
    expect(loadConfig({ METRICS_TOKEN: token }).metrics).toEqual({ token, listen: undefined });
    expect(loadConfig({ METRICS_TOKEN: token, METRICS_PORT: "9100", METRICS_HOST: "0.0.0.0" }).metrics).toEqual({
      token,
      listen: { host: "0.0.0.0", port: 9100 },
    });
  });

  it("METRICS_PORT=off serves it nowhere; 0 picks a free port", () => {
    expect(loadConfig({ METRICS_PORT: "off" }).metrics).toEqual({ token: undefined, listen: undefined });
    expect(loadConfig({ METRICS_PORT: "0" }).metrics.listen).toEqual({ host: "127.0.0.1", port: 0 });
  });

  it("refuses a short token, a bad port, and a non-loopback listener without a token, naming the variable", () => {
    expect(configError({ METRICS_TOKEN: "short" })).toMatch(/METRICS_TOKEN: must be at least 32 characters/);
    expect(configError({ METRICS_PORT: "nine" })).toMatch(/METRICS_PORT/);
    expect(configError({ METRICS_HOST: "0.0.0.0" })).toMatch(
      /METRICS_HOST: a non-loopback address needs METRICS_TOKEN/,
    );
    expect(loadConfig({ METRICS_HOST: "::1" }).metrics.listen).toEqual({ host: "::1", port: 9464 });
  });
});
