import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import { z } from "zod";

const ZBool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const ZInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Every environment variable the service reads, with defaults. Nothing else reads `process.env`. */
const ZEnv = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().min(1).default("0.0.0.0"),
  PORT: ZInt(0, 65535).default(3000),
  PUBLIC_URL: z.url().optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional(),
  DATABASE_POOL_MAX: ZInt(1, 200).default(10),
  DATABASE_QUERY_TIMEOUT_MS: ZInt(100, 600_000).default(30_000),
  DATA_DIR: z.string().min(1).default(".data"),
  WEB_DIR: z.string().min(1).default("dist/web"),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
    .optional(),
  REDIS_KEY_PREFIX: z.string().default("fse:"),
  SESSION_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  SECRETS_KEY: z
    .string()
    .refine((v) => decodeKey(v) !== undefined, "must be 32 bytes as 64 hex digits or base64")
    .optional(),
  SESSION_TTL_SECONDS: ZInt(60, 60 * 60 * 24 * 365).default(60 * 60 * 24 * 7),
  SESSION_COOKIE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default("fse.sid"),
  TRUST_PROXY: z
    .string()
    .refine(
      isTrustProxy,
      "must be false, a hop count, a comma-separated list of addresses, subnets " +
        "or loopback/linklocal/uniquelocal, or true (not in production)",
    )
    .default("false"),
  ALLOWED_ORIGINS: z
    .string()
    .refine(
      (v) => splitList(v).every(isOrigin),
      "must be a comma-separated list of origins such as https://app.example.com (no path)",
    )
    .default(""),
  SERVER_EVENTS_RATE_LIMIT: ZInt(1, 1_000_000).default(600),
  SERVER_EVENTS_RATE_WINDOW_SECONDS: ZInt(1, 60 * 60 * 24).default(3600),
  LOGIN_MAX_FAILURES_PER_EMAIL: ZInt(1, 10_000).default(5),
  LOGIN_EMAIL_WINDOW_SECONDS: ZInt(1, 60 * 60 * 24).default(15 * 60),
  LOGIN_MAX_FAILURES_PER_IP: ZInt(1, 100_000).default(100),
  LOGIN_IP_WINDOW_SECONDS: ZInt(1, 60 * 60 * 24).default(3600),
  LOGIN_EMAIL_AND_IP_WINDOW_SECONDS: ZInt(1, 60 * 60 * 24).default(3600),
  API_KEY_RATE_LIMIT: ZInt(1, 1_000_000).default(600),
  API_KEY_RATE_WINDOW_SECONDS: ZInt(1, 60 * 60 * 24).default(3600),
  API_KEY_MAX_FAILURES_PER_IP: ZInt(1, 100_000).default(20),
  API_KEY_FAILURE_WINDOW_SECONDS: ZInt(1, 60 * 60 * 24).default(15 * 60),
  COLLECT_IP_RATE_LIMIT: ZInt(1, 1_000_000).default(600),
  COLLECT_IP_RATE_WINDOW_SECONDS: ZInt(1, 60 * 60 * 24).default(60),
  COLLECT_VISITOR_RATE_LIMIT: ZInt(1, 1_000_000).default(120),
  COLLECT_VISITOR_RATE_WINDOW_SECONDS: ZInt(1, 60 * 60 * 24).default(60),
  COLLECT_IDENTITY_RATE_LIMIT: ZInt(1, 1_000_000).default(600),
  COLLECT_IDENTITY_RATE_WINDOW_SECONDS: ZInt(1, 60 * 60 * 24).default(60),
  BODY_LIMIT_BYTES: ZInt(1024, 50 * 1024 * 1024).default(1024 * 1024),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  SEED_DEMO: ZBool.optional(),
  SHUTDOWN_TIMEOUT_MS: ZInt(0, 120_000).default(10_000),
  METRICS_TOKEN: z.string().min(32, "must be at least 32 characters").optional(),
  METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  METRICS_PORT: z.union([z.literal("off"), ZInt(0, 65535)]).optional(),
  /** The API key the stdio MCP server (`npm run mcp`) runs as, when `--key` is not given. */
  FSE_API_KEY: z.string().min(1).optional(),
});

export type TConfig = ReturnType<typeof loadConfig>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Parses the environment once at start-up. A bad value fails fast with a message naming the
 * variable; production refuses to start without a session secret, PostgreSQL and Redis, since
 * the embedded backends keep state inside one process.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env) {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = ZEnv.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === "production";
  if (production) requireProductionSettings(e);
  return {
    env: e.NODE_ENV,
    production,
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.PUBLIC_URL,
    database: {
      url: e.DATABASE_URL,
      poolMax: e.DATABASE_POOL_MAX,
      queryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS,
      dataDir: e.DATA_DIR,
    },
    // The browser assets `npm run build:web` writes (the snippet and the dashboard).
    webDir: e.WEB_DIR,
    redis: e.REDIS_URL ? { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX } : undefined,
    session: {
      // Without a configured secret (development only) sessions die with the process anyway.
      secret: e.SESSION_SECRET ?? randomBytes(32).toString("hex"),
      secretConfigured: e.SESSION_SECRET !== undefined,
      ttlSeconds: e.SESSION_TTL_SECONDS,
      cookieName: e.SESSION_COOKIE_NAME,
      secureCookie: production,
    },
    secrets: secretsOf(e.SECRETS_KEY),
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    // Normalized like a browser's Origin header (lower-case host, no default port) so they compare equal.
    allowedOrigins: splitList(e.ALLOWED_ORIGINS).map((o) => new URL(o).origin),
    limits: limitsOf(e),
    collect: collectLimitsOf(e),
    logLevel: e.LOG_LEVEL,
    seedDemo: e.SEED_DEMO ?? !e.DATABASE_URL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    metrics: metricsOf(e),
    mcpApiKey: e.FSE_API_KEY,
    /** Set by withLocalSecrets (server/infra/local-secrets.ts) when it keeps generated secrets in a file. */
    localSecretsFile: undefined as string | undefined,
  };
}

/** The default port of the metrics listener (Prometheus exporters' range). */
export const DEFAULT_METRICS_PORT = 9464;

/**
 * Where `/metrics` is served. With METRICS_TOKEN: on the public port, behind that bearer token.
 * Without: never on the public port, only on a listener of its own (METRICS_HOST:METRICS_PORT,
 * loopback by default). METRICS_PORT turns that listener on next to a token too, or `off`. A
 * listener on a non-loopback address needs the token: the metrics are never open to a network.
 */
function metricsOf(e: z.infer<typeof ZEnv>) {
  const token = e.METRICS_TOKEN;
  const port = e.METRICS_PORT ?? (token ? "off" : DEFAULT_METRICS_PORT);
  const listen = port === "off" ? undefined : { host: e.METRICS_HOST, port };
  if (listen && !token && !isLoopback(listen.host)) {
    throw new ConfigError(
      "Invalid configuration:\n  METRICS_HOST: a non-loopback address needs METRICS_TOKEN (or METRICS_PORT=off)",
    );
  }
  return { token, listen };
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Production refuses to start without a session secret, a secrets key, PostgreSQL and Redis, and
 * with TRUST_PROXY=true, which believes every X-Forwarded-For entry.
 */
function requireProductionSettings(e: z.infer<typeof ZEnv>): void {
  const missing = (["SESSION_SECRET", "SECRETS_KEY", "REDIS_URL", "DATABASE_URL"] as const).filter((k) => !e[k]);
  const lines = missing.map((k) => `  ${k}: required when NODE_ENV=production`);
  if (e.TRUST_PROXY === "true") {
    lines.push(
      "  TRUST_PROXY: true is refused when NODE_ENV=production: every client could choose its address " +
        "(X-Forwarded-For) and so escape the per-IP limits; " +
        "set the hop count (1 behind one proxy) or the proxies' addresses",
    );
  }
  if (lines.length > 0) throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
}

/** The request limits: per session user, logins, API keys, and the body size. */
function limitsOf(e: z.infer<typeof ZEnv>) {
  return {
    serverEvents: { points: e.SERVER_EVENTS_RATE_LIMIT, durationSeconds: e.SERVER_EVENTS_RATE_WINDOW_SECONDS },
    loginPerEmail: { points: e.LOGIN_MAX_FAILURES_PER_EMAIL, durationSeconds: e.LOGIN_EMAIL_WINDOW_SECONDS },
    loginPerIp: { points: e.LOGIN_MAX_FAILURES_PER_IP, durationSeconds: e.LOGIN_IP_WINDOW_SECONDS },
    // One point: while an email is over its budget, only an address with no failure on it is checked.
    loginPerEmailAndIp: { points: 1, durationSeconds: e.LOGIN_EMAIL_AND_IP_WINDOW_SECONDS },
    apiKey: { points: e.API_KEY_RATE_LIMIT, durationSeconds: e.API_KEY_RATE_WINDOW_SECONDS },
    apiKeyFailuresPerIp: { points: e.API_KEY_MAX_FAILURES_PER_IP, durationSeconds: e.API_KEY_FAILURE_WINDOW_SECONDS },
    bodyBytes: e.BODY_LIMIT_BYTES,
  };
}

/**
 * The tracking snippet's door (POST /api/collect): batches per client IP, per visitor of a site,
 * and identities (visitor ids and email-only emails, each a profile) per site and client IP.
 */
function collectLimitsOf(e: z.infer<typeof ZEnv>) {
  return {
    perIp: { points: e.COLLECT_IP_RATE_LIMIT, durationSeconds: e.COLLECT_IP_RATE_WINDOW_SECONDS },
    perVisitor: { points: e.COLLECT_VISITOR_RATE_LIMIT, durationSeconds: e.COLLECT_VISITOR_RATE_WINDOW_SECONDS },
    identitiesPerIp: { points: e.COLLECT_IDENTITY_RATE_LIMIT, durationSeconds: e.COLLECT_IDENTITY_RATE_WINDOW_SECONDS },
  };
}

/**
 * Express's `trust proxy`: false, a hop count, or a comma-separated list of proxy addresses; true
 * (trust every hop, so the client's own X-Forwarded-For) only outside production.
 */
function parseTrustProxy(value: string): boolean | number | string[] {
  if (value === "true") return true;
  if (value === "false") return false;
  if (/^\d+$/.test(value)) return Number(value);
  return splitList(value);
}

function splitList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** What Express (proxy-addr) accepts; checked here so a typo fails naming the variable, not deep in Express. */
function isTrustProxy(value: string): boolean {
  if (value === "true" || value === "false" || /^\d+$/.test(value)) return true;
  const entries = splitList(value);
  return (
    entries.length > 0 &&
    entries.every((entry) => {
      if (["loopback", "linklocal", "uniquelocal"].includes(entry)) return true;
      const [address = "", range, ...rest] = entry.split("/");
      if (rest.length > 0 || !isIP(address)) return false;
      if (range === undefined) return true;
      const max = isIP(address) === 4 ? 32 : 128;
      return /^\d+$/.test(range) ? Number(range) <= max : isIP(range) === isIP(address);
    })
  );
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (
      (url.protocol === "http:" || url.protocol === "https:") &&
      url.pathname === "/" &&
      !url.search &&
      !url.hash &&
      !url.username
    );
  } catch {
    return false;
  }
}

/** Encrypts stored third-party secrets (Stripe signing secrets). Random without one (development only). */
function secretsOf(configured: string | undefined): { key: Buffer; keyConfigured: boolean; keptIn?: string } {
  const key = configured === undefined ? undefined : decodeKey(configured);
  return { key: key ?? randomBytes(32), keyConfigured: key !== undefined };
}

/** A 32-byte key from 64 hex digits or base64; undefined for anything else. */
function decodeKey(v: string): Buffer | undefined {
  const bytes = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, "hex") : Buffer.from(v, "base64");
  return bytes.length === 32 ? bytes : undefined;
}
