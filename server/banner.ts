import type { TConfig } from "./config.ts";
import { DEMO_EMAIL, type TDemoLogin, type TKnownWorkspace } from "./seed/demo.ts";

export type TBannerInput = {
  /** Where clients reach the service (PUBLIC_URL, else localhost and the bound port). */
  base: string;
  database: "postgres" | "embedded";
  /** The demo login created by this start, shown once; null when none was created now. */
  demo: TDemoLogin | null;
  /** On a later start, the workspace and site to try the API with (ids only, never a password). */
  known?: TKnownWorkspace | null;
  /** Whether this start may seed a demo user (SEED_DEMO): only then is there one to mention. */
  seedDemo: boolean;
};

/**
 * The example event's visitor id, shaped like the ones the snippet makes (`v_` + 32 hex digits),
 * so the read-back command finds what the record command wrote; its messageId makes running the
 * record command again answer `duplicate` instead of recording a second signup.
 */
const EXAMPLE_VISITOR = "v_8f14e45fceea167a5a36dedd4bea2543";
const EXAMPLE_MESSAGE_ID = "signup-user@example.com";

/** The start-up text for people, true for the mode the server runs in. */
export function formatBanner({ base, database, demo, known = null, seedDemo }: TBannerInput): string {
  const lines = [
    ``,
    `  Server-side events API on ${base}`,
    `  Docs:     ${base}/api/docs   (OpenAPI: ${base}/api/openapi.json)`,
    `  Dashboard: ${base}/app/`,
  ];
  if (demo) lines.push(...demoLines(base, demo));
  else {
    if (known) lines.push(...knownLines(base, known));
    lines.push(...adminLines(database, seedDemo));
  }
  return lines.join("\n") + "\n\n";
}

function demoLines(base: string, demo: TDemoLogin): string[] {
  return [
    `  Demo login (created now, shown once):`,
    `    email     ${demo.email}`,
    `    password  ${demo.password}`,
    `    workspace ${demo.workspaceId}`,
    `    site      ${demo.siteId}`,
    `  Try it:`,
    ...tryLines(base, { email: demo.email, password: demo.password }, demo.workspaceId, demo.siteId),
  ];
}

/** Later starts: the ids again, and the same commands with the password left for the user to fill in. */
function knownLines(base: string, known: TKnownWorkspace): string[] {
  const lines = [`  Workspace ${known.workspaceId} (${known.workspaceName})`];
  if (known.siteId) lines.push(`  Site      ${known.siteId} (${known.domain})`);
  if (!known.siteId) return lines;
  const email = known.isDemo ? DEMO_EMAIL : "you@example.com";
  return [...lines, `  Try it:`, ...tryLines(base, { email, password: "<password>" }, known.workspaceId, known.siteId)];
}

function tryLines(base: string, login: { email: string; password: string }, workspaceId: string, siteId: string) {
  const record = JSON.stringify({
    siteId,
    events: [{ type: "signup", visitorId: EXAMPLE_VISITOR, email: "user@example.com", messageId: EXAMPLE_MESSAGE_ID }],
  });
  return [
    `    curl -c cookies.txt -H 'Content-Type: application/json' -d '${JSON.stringify(login)}' ${base}/api/auth/login`,
    `    curl -b cookies.txt -H 'Content-Type: application/json' -d '${record}' \\`,
    `      '${base}/api/tracking/server-events?workspaceId=${workspaceId}'`,
    `    curl -b cookies.txt '${base}/api/profiles/lookup?workspaceId=${workspaceId}&visitorId=${EXAMPLE_VISITOR}'`,
    `  Track a web page of the site's domain (README, "Track a website"):`,
    `    <script async src="${base}/fz.js" data-site="${siteId}"></script>`,
  ];
}

function adminLines(database: TBannerInput["database"], seedDemo: boolean): string[] {
  // Embedded: the CLI hands its commands to this server (DATA_DIR/admin.sock); PostgreSQL: it opens DATABASE_URL.
  const how =
    database === "embedded"
      ? `  To create a user or set a new password, run (alongside the server; it runs the command for the CLI)`
      : `  To create a user or set a new password, run (alongside the server; it uses the same DATABASE_URL)`;
  const demoHint = seedDemo ? `   (the demo user is ${DEMO_EMAIL})` : "";
  return [
    `  Log in with an existing user (POST /api/auth/login).`,
    how,
    `    npm run admin -- user create --email you@example.com --password -`,
    `    npm run admin -- user password --email you@example.com --password -${demoHint}`,
  ];
}

/** Configurations that start but will not behave as an operator expects, one log line each. */
export function startupWarnings(config: TConfig): string[] {
  const warnings: string[] = [];
  if (config.localSecretsFile) {
    warnings.push(
      `${unset(config)} not set: generated once and kept in ${config.localSecretsFile} (mode 0600), so logins ` +
        "and Stripe signing secrets survive a restart; set them in the environment to choose your own",
    );
  } else {
    if (!config.session.secretConfigured && !config.production) {
      warnings.push(
        "SESSION_SECRET not set: using a random one, sessions end with this process and no other instance accepts them",
      );
    }
    if (!config.secrets.keyConfigured && !config.production) {
      warnings.push(
        "SECRETS_KEY not set: using a random one, Stripe signing secrets set now are unreadable after a restart " +
          "and by the admin CLI's other process",
      );
    }
  }
  if (config.session.secureCookie && (config.trustProxy === false || config.trustProxy === 0)) {
    warnings.push(
      "NODE_ENV=production sends the session cookie only over HTTPS, and without TRUST_PROXY every request looks " +
        "like plain HTTP: login answers 200 but sets no cookie. Serve through an HTTPS proxy and set TRUST_PROXY",
    );
  }
  if (config.trustProxy === true) {
    warnings.push(
      "TRUST_PROXY=true believes every X-Forwarded-For entry: each client can choose its address and so escape " +
        "every per-IP limit (refused in production). Set the hop count (1 behind one proxy) or the proxies' addresses",
    );
  }
  return warnings;
}

function unset(config: TConfig): string {
  const names = [
    ...(config.session.secretConfigured ? [] : ["SESSION_SECRET"]),
    ...(config.secrets.keyConfigured ? [] : ["SECRETS_KEY"]),
  ];
  return names.join(" and ");
}
