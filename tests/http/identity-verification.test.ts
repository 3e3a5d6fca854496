import { createHmac, randomBytes } from "node:crypto";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAdmin } from "../../server/cli/run-admin.ts";
import { pageview, postCollect, type TCollectEvent } from "../support/collect.ts";
import { uid } from "../support/fixtures.ts";
import { loadProfile } from "../support/ingest-state.ts";
import { jsonOf, startTestApp, type TTestApp } from "../support/test-app.ts";
import { trpcClient } from "../support/trpc.ts";
import { TRANSPORTS, type TTransport } from "../support/wire.ts";

const SECRETS_KEY = randomBytes(32).toString("base64");

let app: TTestApp;
beforeAll(async () => {
  app = await startTestApp({ config: { SECRETS_KEY } });
}, 60_000);
afterAll(() => app?.close());

type TSetInput = { siteId: string; required: boolean; rotateSecret?: boolean };
type TIssue = { path: unknown[] };
type TSetAnswer = {
  status: number;
  body: { siteId?: string; required?: boolean; secret?: string };
  reason?: string;
  paths?: unknown[][];
};
type TCollectAnswer = { accepted: number; duplicates: number; unverifiedEmails?: number };

/** Computed as a customer's backend would: node:crypto, not the server's module. */
const hmacOf = (secret: string, email: string) =>
  createHmac("sha256", secret).update(email.trim().toLowerCase()).digest("hex");

async function setVerification(
  transport: TTransport,
  cookie: string,
  workspaceId: string,
  input: TSetInput,
): Promise<TSetAnswer> {
  if (transport === "rest") {
    const res = await fetch(`${app.baseUrl}/api/sites/identity-verification?workspaceId=${workspaceId}`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify(input),
    });
    const body = await jsonOf<TSetAnswer["body"] & { data?: { reason: string; issues: TIssue[] } }>(res);
    return { status: res.status, body, reason: body.data?.reason, paths: body.data?.issues.map((i) => i.path) };
  }
  try {
    const body = await trpcClient(app, cookie).sites.setIdentityVerification.mutate({ workspaceId, ...input });
    return { status: 200, body };
  } catch (err) {
    if (!(err instanceof TRPCClientError)) throw err;
    const data = err.data as { httpStatus: number; reason: string; issues?: TIssue[] };
    return { status: data.httpStatus, body: {}, reason: data.reason, paths: data.issues?.map((i) => i.path) };
  }
}

async function admin(argv: string[], env: Record<string, string> = { NODE_ENV: "test", SECRETS_KEY }) {
  let stdout = "";
  let stderr = "";
  const code = await runAdmin(argv, {
    db: app.db,
    env: { LOG_LEVEL: "silent", ...env },
    stdout: { write: (s: string) => void (stdout += s) },
    stderr: { write: (s: string) => void (stderr += s) },
    readStdin: () => Promise.resolve(""),
  });
  return { code, stdout: stdout.trim(), stderr };
}

/** A workspace of its own on example.com (the test pages' origin is shop.example.com), with its ADMIN's cookie. */
async function ownSite() {
  const seed = await app.seedWorkspace({ domain: "example.com", roles: ["MANAGER", "VIEW_ONLY"] });
  return { ...seed, cookie: await app.login(seed.owner.email, seed.owner.password) };
}

type TSite = Awaited<ReturnType<typeof ownSite>>;

async function requireVerification(site: TSite, rotateSecret?: boolean): Promise<string> {
  const set = await setVerification("rest", site.cookie, site.workspace.id, {
    siteId: site.site.id,
    required: true,
    rotateSecret,
  });
  expect(set.status).toBe(200);
  return set.body.secret!;
}

async function collect(site: TSite, events: TCollectEvent[]) {
  const res = await postCollect(app.baseUrl, { body: { siteId: site.site.id, events } });
  expect(res.status).toBe(200);
  const { received, outcome, ...counts } = await jsonOf<TCollectAnswer & { received: boolean; outcome: string }>(res);
  expect({ received, outcome }).toEqual({ received: true, outcome: "recorded" });
  return counts;
}

const eventOf = (messageId: string) => app.db.prisma.trackingEvent.findFirstOrThrow({ where: { messageId } });

/** An identify from a visitor of its own, as the snippet sends it; with `emailHmac` when given. */
function identify(email: string, emailHmac?: string): TCollectEvent & { emailHmac?: string } {
  return pageview({ type: "identify", email, ...(emailHmac === undefined ? {} : { emailHmac }) });
}

/** A profile that owns `email` (recorded while the site did not require verification). */
async function profileOwning(site: TSite, email: string): Promise<string> {
  const event = identify(email);
  expect(await collect(site, [event])).toEqual({ accepted: 1, duplicates: 0 });
  return (await eventOf(event.messageId!)).profileId;
}

describe("sites.setIdentityVerification", () => {
  it.each(TRANSPORTS)(
    "%s: an ADMIN turns it on and gets the secret once; again: no secret; rotate: a new one",
    async (transport) => {
      const site = await ownSite();
      const input = { siteId: site.site.id, required: true };
      const first = await setVerification(transport, site.cookie, site.workspace.id, input);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({
        siteId: site.site.id,
        required: true,
        secret: expect.stringMatching(/^[0-9a-f]{64}$/) as string,
      });
      const again = await setVerification(transport, site.cookie, site.workspace.id, input);
      expect(again.body).toEqual({ siteId: site.site.id, required: true });
      const off = await setVerification(transport, site.cookie, site.workspace.id, { ...input, required: false });
      expect(off.body).toEqual({ siteId: site.site.id, required: false });
      const rotated = await setVerification(transport, site.cookie, site.workspace.id, {
        ...input,
        rotateSecret: true,
      });
      expect(rotated.body.secret).toMatch(/^[0-9a-f]{64}$/);
      expect(rotated.body.secret).not.toBe(first.body.secret);

      const [stored] = await app.db.prisma.$queryRaw<{ sealed: string }[]>`
        SELECT identity_secret AS sealed FROM tracking_sites WHERE id = ${site.site.id}`;
      expect(stored!.sealed).not.toContain(rotated.body.secret);
    },
  );

  it("rotating while off creates the secret without requiring it (the roll-out order)", async () => {
    const site = await ownSite();
    const set = await setVerification("rest", site.cookie, site.workspace.id, {
      siteId: site.site.id,
      required: false,
      rotateSecret: true,
    });
    expect(set.body).toEqual({ siteId: site.site.id, required: false, secret: expect.any(String) as string });
    // Still off: an email without an HMAC is taken.
    const event = identify("first@example.com");
    expect(await collect(site, [event])).toEqual({ accepted: 1, duplicates: 0 });
    expect((await eventOf(event.messageId!)).email).toBe("first@example.com");
    // Turning it on keeps that secret: it is not answered again, and HMACs under it verify.
    const on = await setVerification("rest", site.cookie, site.workspace.id, { siteId: site.site.id, required: true });
    expect(on.body).toEqual({ siteId: site.site.id, required: true });
    const verified = identify("first@example.com", hmacOf(set.body.secret!, "first@example.com"));
    expect(await collect(site, [verified])).toMatchObject({ accepted: 1, unverifiedEmails: 0 });
  });

  it.each(TRANSPORTS)(
    "%s: a MANAGER or VIEW_ONLY member gets 403, another workspace's site 403, no session 401",
    async (transport) => {
      const site = await ownSite();
      const other = await ownSite();
      const input = { siteId: site.site.id, required: true };
      for (const role of ["MANAGER", "VIEW_ONLY"] as const) {
        const member = site.members[role]!;
        const cookie = await app.login(member.email, member.password);
        const refused = await setVerification(transport, cookie, site.workspace.id, input);
        expect(refused).toMatchObject({ status: 403, reason: "ROLE_FORBIDDEN" });
      }
      const foreign = await setVerification(transport, site.cookie, site.workspace.id, {
        ...input,
        siteId: other.site.id,
      });
      expect(foreign).toMatchObject({ status: 403, reason: "SITE_NOT_IN_WORKSPACE" });
      expect((await setVerification(transport, "", site.workspace.id, input)).status).toBe(401);
      // None of the refusals changed anything: both sites are as seeded.
      const { items } = await trpcClient(app, site.cookie).sites.list.query({ workspaceId: site.workspace.id });
      expect(items[0]!.identityVerification).toEqual({ required: false, secretSet: false });
      const [foreignRow] = await app.db.prisma.$queryRaw<{ required: boolean; sealed: string | null }[]>`
        SELECT require_identity_verification AS required, identity_secret AS sealed
        FROM tracking_sites WHERE id = ${other.site.id}`;
      expect(foreignRow).toEqual({ required: false, sealed: null });
    },
  );

  it("refuses a missing or non-boolean `required` with 400 naming it, REST then tRPC (no coercion)", async () => {
    const site = await ownSite();
    // "false" would coerce to true: a request to turn verification off would turn it on.
    for (const [transport, required] of [
      ["rest", "false"],
      ["trpc", "false"],
      ["rest", undefined],
    ] as const) {
      const refused = await setVerification(transport, site.cookie, site.workspace.id, {
        siteId: site.site.id,
        required: required as unknown as boolean,
      });
      expect(refused).toMatchObject({ status: 400, reason: "VALIDATION_FAILED", paths: [["required"]] });
    }
    const { items } = await trpcClient(app, site.cookie).sites.list.query({ workspaceId: site.workspace.id });
    expect(items[0]!.identityVerification).toEqual({ required: false, secretSet: false });
  });

  it("sites.list shows whether it is required and a secret is set, never the secret (either transport)", async () => {
    const site = await ownSite();
    const secret = await requireVerification(site);
    const rest = await fetch(`${app.baseUrl}/api/sites?workspaceId=${site.workspace.id}`, {
      headers: { cookie: site.cookie },
    });
    const text = await rest.text();
    expect(JSON.parse(text)).toMatchObject({
      items: [{ id: site.site.id, identityVerification: { required: true, secretSet: true } }],
    });
    expect(text).not.toContain(secret);
    const viaTrpc = await trpcClient(app, site.cookie).sites.list.query({ workspaceId: site.workspace.id });
    expect(JSON.stringify(viaTrpc)).not.toContain(secret);
    expect(viaTrpc.items[0]!.identityVerification).toEqual({ required: true, secretSet: true });
  });
});

describe("POST /api/collect with identity verification", () => {
  it("off (the default): an email is taken as sent, an emailHmac ignored, and the answer has no count", async () => {
    const site = await ownSite();
    const ceo = await profileOwning(site, "ceo@victim.test");
    const claim = identify("ceo@victim.test", "0".repeat(64));
    expect(await collect(site, [claim])).toEqual({ accepted: 1, duplicates: 0 });
    const recorded = await eventOf(claim.messageId!);
    expect(recorded.email).toBe("ceo@victim.test");
    // The weakness verification closes: any page attaches its visitor to the email's profile.
    expect(recorded.profileId).toBe(ceo);
  });

  it("on, with a valid HMAC: the email is taken and the visitor attached to its profile", async () => {
    const site = await ownSite();
    const ceo = await profileOwning(site, "ceo@victim.test");
    const secret = await requireVerification(site);
    const claim = identify(" CEO@Victim.test ", hmacOf(secret, "ceo@victim.test"));
    expect(await collect(site, [claim])).toEqual({ accepted: 1, duplicates: 0, unverifiedEmails: 0 });
    const recorded = await eventOf(claim.messageId!);
    expect(recorded.email).toBe("ceo@victim.test");
    expect(recorded.profileId).toBe(ceo);
  });

  it("on, with a missing or wrong HMAC: recorded without the email, its profile untouched, counted", async () => {
    const site = await ownSite();
    const ceo = await profileOwning(site, "ceo@victim.test");
    const secret = await requireVerification(site);
    const before = await loadProfile(app.db.prisma, ceo);
    const claims = [
      identify("ceo@victim.test"),
      identify("ceo@victim.test", hmacOf(secret, "someone@else.test")),
      identify("ceo@victim.test", hmacOf("not the secret", "ceo@victim.test")),
    ];
    const other = pageview();
    expect(await collect(site, [...claims, other])).toEqual({ accepted: 4, duplicates: 0, unverifiedEmails: 3 });
    for (const claim of claims) {
      const recorded = await eventOf(claim.messageId!);
      expect(recorded).toMatchObject({ email: null, visitorId: claim.visitorId, type: "identify", path: "/" });
      expect(recorded.profileId).not.toBe(ceo);
    }
    expect(await loadProfile(app.db.prisma, ceo)).toEqual(before);
    const metrics = await app.metricsText();
    expect(metrics).toMatch(/^collect_unverified_emails_total \d+/m);
  });

  it("on: an event whose only identity is an unverified email is not recorded, and counted", async () => {
    const site = await ownSite();
    await requireVerification(site);
    const emailOnly = { type: "identify", email: "ceo@victim.test", messageId: uid() };
    expect(await collect(site, [emailOnly])).toEqual({ accepted: 0, duplicates: 0, unverifiedEmails: 1 });
    expect(await app.db.prisma.trackingEvent.count({ where: { siteId: site.site.id } })).toBe(0);
  });

  it("rotation: HMACs under the old secret stop verifying, the new secret's verify", async () => {
    const site = await ownSite();
    const old = await requireVerification(site);
    const renewed = await requireVerification(site, true);
    const withOld = identify("buyer@example.com", hmacOf(old, "buyer@example.com"));
    const withNew = identify("buyer@example.com", hmacOf(renewed, "buyer@example.com"));
    expect(await collect(site, [withOld, withNew])).toEqual({ accepted: 2, duplicates: 0, unverifiedEmails: 1 });
    expect((await eventOf(withOld.messageId!)).email).toBeNull();
    expect((await eventOf(withNew.messageId!)).email).toBe("buyer@example.com");
  });

  it("refuses a malformed emailHmac, or one without an email, with 400 naming it (either setting)", async () => {
    const site = await ownSite();
    for (const event of [identify("a@example.com", "not-hex"), pageview({ emailHmac: "a".repeat(64) } as object)]) {
      const res = await postCollect(app.baseUrl, { body: { siteId: site.site.id, events: [event] } });
      expect(res.status).toBe(400);
      const body = await jsonOf<{ data: { issues: { path: unknown[] }[] } }>(res);
      expect(body.data.issues.map((i) => i.path)).toEqual([["events", 0, "emailHmac"]]);
    }
  });

  it("the server-events API does not take emailHmac: it is the browser door's", async () => {
    const site = await ownSite();
    const res = await fetch(`${app.baseUrl}/api/tracking/server-events?workspaceId=${site.workspace.id}`, {
      method: "POST",
      headers: { cookie: site.cookie, "content-type": "application/json" },
      body: JSON.stringify({
        siteId: site.site.id,
        events: [{ type: "signup", email: "a@example.com", emailHmac: "a".repeat(64) }],
      }),
    });
    expect(res.status).toBe(400);
  });
});

describe("admin site identity", () => {
  it("--require prints the secret once, --rotate a new one, --off stops it; collect verifies with it", async () => {
    const site = await ownSite();
    const on = await admin(["site", "identity", "--site", site.site.id, "--require"]);
    expect(on.code).toBe(0);
    expect(on.stdout).toMatch(/^[0-9a-f]{64}$/);
    const again = await admin(["site", "identity", "--site", site.site.id, "--require", "--json"]);
    expect(JSON.parse(again.stdout)).toEqual({ siteId: site.site.id, required: true });
    const verified = identify("buyer@example.com", hmacOf(on.stdout, "buyer@example.com"));
    expect(await collect(site, [verified])).toMatchObject({ unverifiedEmails: 0 });

    const rotated = await admin(["site", "identity", "--site", site.site.id, "--require", "--rotate"]);
    expect(rotated.stdout).toMatch(/^[0-9a-f]{64}$/);
    expect(rotated.stdout).not.toBe(on.stdout);
    const stale = identify("buyer@example.com", hmacOf(on.stdout, "buyer@example.com"));
    expect(await collect(site, [stale])).toMatchObject({ unverifiedEmails: 1 });

    const off = await admin(["site", "identity", "--site", site.site.id, "--off"]);
    expect(off).toMatchObject({ code: 0, stdout: site.site.id });
    const unproven = identify("buyer@example.com");
    expect(await collect(site, [unproven])).toEqual({ accepted: 1, duplicates: 0 });
    expect((await eventOf(unproven.messageId!)).email).toBe("buyer@example.com");
  });

  it("refuses neither or both of --require/--off (2), an unknown site and a missing SECRETS_KEY (1)", async () => {
    const site = await ownSite();
    for (const flags of [[], ["--require", "--off"]]) {
      const bad = await admin(["site", "identity", "--site", site.site.id, ...flags]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/exactly one of --require or --off/);
    }
    const unknown = await admin(["site", "identity", "--site", "site_nope", "--require"]);
    expect(unknown).toMatchObject({ code: 1 });
    expect(unknown.stderr).toMatch(/no site site_nope/);
    const noKey = await admin(["site", "identity", "--site", site.site.id, "--require"], { NODE_ENV: "test" });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/SECRETS_KEY is not set/);
    const [row] = await app.db.prisma.$queryRaw<{ required: boolean }[]>`
      SELECT require_identity_verification AS required FROM tracking_sites WHERE id = ${site.site.id}`;
    expect(row!.required).toBe(false);
  });
});
