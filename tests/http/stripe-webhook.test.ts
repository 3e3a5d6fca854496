import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAdmin } from "../../server/cli/run-admin.ts";
import { setBrowserStageCeiling } from "../../server/workspaces/workspaces.repo.ts";
import { uid, type TSeededWorkspace } from "../support/fixtures.ts";
import { countIngestRows, loadProfile, NOTHING_WRITTEN } from "../support/ingest-state.ts";
import { jsonOf, startTestApp, type TTestApp } from "../support/test-app.ts";
import { trpcClient } from "../support/trpc.ts";

const SECRETS_KEY = randomBytes(32).toString("base64");
const TEST_ENV = { NODE_ENV: "test", LOG_LEVEL: "silent", SECRETS_KEY };

let app: TTestApp;
let seed: TSeededWorkspace;
let adminCookie: string;
beforeAll(async () => {
  app = await startTestApp({ config: { SECRETS_KEY } });
  seed = await app.seedWorkspace({ roles: ["MANAGER"] });
  adminCookie = await app.login(seed.owner.email, seed.owner.password);
}, 60_000);
afterAll(() => app?.close());

/** The parts of our answers (webhook, REST) these tests read. */
type TAnswer = {
  received?: boolean;
  outcome?: string;
  reason?: string;
  field?: string;
  issues?: { path: unknown[]; message: string }[];
  profileId?: string;
  siteId?: string;
  events: { profileId: string }[];
  data: { reason: string; requestId: string; issues: { path: unknown[] }[] };
};

type TFixture = { id: string; type: string; created: number; data: { object: Record<string, unknown> } };

/** A fixture written from Stripe's published event examples, given a fresh id and the fields a test varies. */
function stripeEvent(name: string, vary: { object?: Record<string, unknown>; type?: string } = {}) {
  const text = readFileSync(new URL(`../fixtures/stripe/${name}.json`, import.meta.url), "utf8");
  const event = JSON.parse(text) as TFixture;
  event.id = `evt_${uid()}${uid()}`;
  event.created = Math.floor(Date.now() / 1000) - 5;
  Object.assign(event.data.object, vary.object ?? {});
  if (vary.type) event.type = vary.type;
  return event;
}

type TDelivery = { secret: string; siteId: string; timestamp?: number; signature?: string | null };

/** Posts an event as Stripe does: raw JSON (or the text given), signed with the `stripe` package's own test helper. */
async function deliver(event: unknown, { secret, siteId, timestamp, signature }: TDelivery) {
  const payload = typeof event === "string" ? event : JSON.stringify(event, null, 2);
  const header =
    signature === undefined ? Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }) : signature;
  const res = await fetch(`${app.baseUrl}/api/webhooks/stripe/${siteId}`, {
    method: "POST",
    headers: {
      "content-type": "application/json; charset=utf-8",
      "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
      ...(header === null ? {} : { "stripe-signature": header }),
    },
    body: payload,
  });
  return { status: res.status, body: await jsonOf<TAnswer>(res) };
}

async function rest(path: string, cookie: string, body: unknown) {
  const res = await fetch(`${app.baseUrl}/api${path}`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await jsonOf<TAnswer>(res) };
}

async function admin(argv: string[], stdin?: string, env: Record<string, string> = TEST_ENV) {
  let stdout = "";
  let stderr = "";
  const code = await runAdmin(argv, {
    db: app.db,
    env,
    stdout: { write: (s: string) => void (stdout += s) },
    stderr: { write: (s: string) => void (stderr += s) },
    readStdin: () => Promise.resolve(stdin ?? ""),
  });
  return { code, stdout: stdout.trim(), stderr };
}

const newSecret = () => `whsec_${randomBytes(24).toString("base64url")}`;

async function storedSecretColumn(siteId: string): Promise<string | null> {
  const site = await app.db.prisma.trackingSite.findUniqueOrThrow({ where: { id: siteId } });
  return site.stripeWebhookSecret;
}

/** A workspace of its own (so row counts are the test's alone) with its site's secret set by the CLI. */
async function connectedSite() {
  const own = await app.seedWorkspace();
  const secret = newSecret();
  expect((await admin(["site", "stripe-secret", "--site", own.site.id, "--secret", secret])).code).toBe(0);
  return { ...own, secret, cookie: await app.login(own.owner.email, own.owner.password) };
}

async function metric(type: string, outcome: string, reason = ""): Promise<number> {
  const text = await app.metricsText();
  const labels = `{type="${type}",outcome="${outcome}",reason="${reason}"}`;
  const line = text.split("\n").find((l) => l.startsWith(`stripe_webhook_events_total${labels}`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe("setting the signing secret", () => {
  it("over REST and tRPC by an ADMIN: stored encrypted, never returned; others are refused", async () => {
    const secret = newSecret();
    const ws = `?workspaceId=${seed.workspace.id}`;
    const set = await rest(`/sites/stripe-secret${ws}`, adminCookie, { siteId: seed.site.id, secret });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ siteId: seed.site.id, webhookPath: `/api/webhooks/stripe/${seed.site.id}` });
    const sealed = await storedSecretColumn(seed.site.id);
    expect(sealed).not.toBeNull();
    expect(sealed).not.toContain(secret);
    expect(sealed).not.toContain(secret.slice("whsec_".length));

    const again = newSecret();
    const viaTrpc = await trpcClient(app, adminCookie).sites.setStripeSecret.mutate({
      workspaceId: seed.workspace.id,
      siteId: seed.site.id,
      secret: again,
    });
    expect(viaTrpc.siteId).toBe(seed.site.id);
    expect(await storedSecretColumn(seed.site.id)).not.toContain(again.slice("whsec_".length));
    const verified = await deliver(stripeEvent("invoice.paid"), { secret: again, siteId: seed.site.id });
    expect(verified.status).toBe(200);

    const manager = await app.login(seed.members.MANAGER!.email, seed.members.MANAGER!.password);
    const byManager = await rest(`/sites/stripe-secret${ws}`, manager, { siteId: seed.site.id, secret });
    expect(byManager.status).toBe(403);
    expect(byManager.body.data.reason).toBe("ROLE_FORBIDDEN");
    const other = await app.seedWorkspace();
    const foreign = await rest(`/sites/stripe-secret${ws}`, adminCookie, { siteId: other.site.id, secret });
    expect(foreign.status).toBe(403);
    expect(foreign.body.data.reason).toBe("SITE_NOT_IN_WORKSPACE");
    expect(await storedSecretColumn(other.site.id)).toBeNull();
    const bad = await rest(`/sites/stripe-secret${ws}`, adminCookie, { siteId: seed.site.id, secret: "sk_live_x" });
    expect(bad.status).toBe(400);
    expect(bad.body.data.issues[0]?.path).toEqual(["secret"]);
    expect((await rest(`/sites/stripe-secret${ws}`, "", { siteId: seed.site.id, secret })).status).toBe(401);
  });

  it("by the admin CLI, also from stdin; refused without SECRETS_KEY and for an unknown site", async () => {
    const own = await app.seedWorkspace();
    const secret = newSecret();
    const piped = await admin(["site", "stripe-secret", "--site", own.site.id, "--secret", "-"], `${secret}\n`);
    expect(piped).toMatchObject({ code: 0, stdout: own.site.id });
    expect(await storedSecretColumn(own.site.id)).not.toContain(secret.slice("whsec_".length));
    expect((await deliver(stripeEvent("invoice.paid"), { secret, siteId: own.site.id })).status).toBe(200);

    const noKey = await admin(["site", "stripe-secret", "--site", own.site.id, "--secret", newSecret()], undefined, {
      NODE_ENV: "test",
    });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/SECRETS_KEY is not set/);
    const unknown = await admin(["site", "stripe-secret", "--site", "site_nope", "--secret", newSecret()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no site site_nope/);
    const malformed = await admin(["site", "stripe-secret", "--site", own.site.id, "--secret", "nope"]);
    expect(malformed.code).toBe(2);
    // The refused attempts left the first secret in place.
    expect((await deliver(stripeEvent("invoice.paid"), { secret, siteId: own.site.id })).status).toBe(200);
  });
});

describe("POST /api/webhooks/stripe/{siteId}", () => {
  it("checkout then subscription active: CUSTOMER on one timeline with a REST event; resends: nothing", async () => {
    const own = await connectedSite();
    // The browser door's ceiling binds the browser door only.
    await setBrowserStageCeiling(app.db.prisma, { siteId: own.site.id, ceiling: "AWARENESS" });
    const visitorId = `v_${uid()}`;
    const target = { secret: own.secret, siteId: own.site.id };
    const signup = await rest(`/tracking/server-events?workspaceId=${own.workspace.id}`, own.cookie, {
      siteId: own.site.id,
      events: [{ type: "signup", visitorId, timestamp: new Date(Date.now() - 60_000).toISOString() }],
    });
    expect(signup.status).toBe(200);
    const profileId = signup.body.events[0]!.profileId;

    const checkout = stripeEvent("checkout.session.completed", { object: { client_reference_id: visitorId } });
    const first = await deliver(checkout, target);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ received: true, outcome: "recorded", profileId });

    // Carries only the Stripe customer id: found through the STRIPE_CUSTOMER identifier.
    const active = stripeEvent("customer.subscription.updated");
    expect(active.data.object.status).toBe("active");
    const second = await deliver(active, target);
    expect(second.body).toMatchObject({ received: true, outcome: "recorded", profileId });

    const stored = await loadProfile(app.db.prisma, profileId);
    expect(stored.funnelLinks.map((l) => l.currentStage)).toEqual(["CUSTOMER"]);
    expect(stored.identifiers.map((i) => [i.kind, i.value])).toEqual([
      ["VISITOR", visitorId],
      ["EMAIL", "jenny.rosen@example.com"],
      ["STRIPE_CUSTOMER", "cus_R7mC0ffee0Cust1"],
    ]);
    expect(stored.timeline.map((t) => t.type)).toEqual(["signup", "checkout_completed", "subscription_active"]);
    const events = await app.db.prisma.trackingEvent.findMany({
      where: { workspaceId: own.workspace.id },
      // Stripe's `created` is in whole seconds: two deliveries can share an occurredAt.
      orderBy: [{ occurredAt: "asc" }, { receivedAt: "asc" }, { id: "asc" }],
    });
    expect(events.map((e) => [e.type, e.source, e.recordedBy, e.messageId])).toEqual([
      ["signup", "SERVER", `user:${own.owner.id}`, null],
      ["checkout_completed", "SERVER", `stripe:${checkout.id}`, checkout.id],
      ["subscription_active", "SERVER", `stripe:${active.id}`, active.id],
    ]);
    expect(events[1]!.props).toMatchObject({ checkoutSessionId: checkout.data.object.id, amountTotal: 2900 });

    const before = await countIngestRows(app.db.prisma, own.workspace.id);
    for (const event of [checkout, active]) {
      const resent = await deliver(event, target);
      expect(resent.status).toBe(200);
      expect(resent.body).toMatchObject({ outcome: "duplicate", profileId });
    }
    expect(await countIngestRows(app.db.prisma, own.workspace.id)).toEqual(before);

    // Cancellation is on the timeline; the stage does not go back.
    const deleted = stripeEvent("customer.subscription.updated", {
      type: "customer.subscription.deleted",
      object: { status: "canceled" },
    });
    expect((await deliver(deleted, target)).body).toMatchObject({ outcome: "recorded", profileId });
    const after = await loadProfile(app.db.prisma, profileId);
    expect(after.timeline.at(-1)!.type).toBe("subscription_canceled");
    expect(after.funnelLinks.map((l) => l.currentStage)).toEqual(["CUSTOMER"]);
  });

  it("trialing moves to TRIAL only; past_due (Stripe's retry grace) counts as CUSTOMER", async () => {
    const own = await connectedSite();
    const target = { secret: own.secret, siteId: own.site.id };
    const customer = `cus_${uid()}`;
    const trial = stripeEvent("customer.subscription.updated", { type: "customer.subscription.created" });
    Object.assign(trial.data.object, { status: "trialing", customer });
    const first = await deliver(trial, target);
    expect(first.body).toMatchObject({ outcome: "recorded" });
    const link = () => app.db.prisma.profileFunnelLink.findFirstOrThrow({ where: { profileId: first.body.profileId } });
    expect((await link()).currentStage).toBe("TRIAL");
    const pastDue = stripeEvent("customer.subscription.updated", { object: { status: "past_due", customer } });
    expect((await deliver(pastDue, target)).body.profileId).toBe(first.body.profileId);
    expect((await link()).currentStage).toBe("CUSTOMER");
  });

  it("refuses a bad, missing or expired signature, an unknown or unconnected site: 400, nothing written", async () => {
    const own = await connectedSite();
    const unconnected = await app.seedWorkspace();
    const event = stripeEvent("checkout.session.completed", { object: { client_reference_id: `v_${uid()}` } });
    const site = own.site.id;
    const failuresBefore = await metric("unverified", "invalid_signature");
    const refusals = [
      await deliver(event, { siteId: site, secret: newSecret() }),
      await deliver(event, { siteId: site, secret: own.secret, signature: null }),
      await deliver(event, { siteId: site, secret: own.secret, signature: "t=1,v1=deadbeef" }),
      await deliver(event, { siteId: site, secret: own.secret, timestamp: Math.floor(Date.now() / 1000) - 301 }),
      await deliver(event, { siteId: site, secret: own.secret, timestamp: Math.floor(Date.now() / 1000) - 360 }),
      // Dated ahead: constructEvent checks only age, so this one is ours to refuse.
      await deliver(event, { siteId: site, secret: own.secret, timestamp: Math.floor(Date.now() / 1000) + 3600 }),
      await deliver(event, { siteId: site, secret: own.secret, timestamp: Math.floor(Date.now() / 1000) + 360 }),
      await deliver(event, { siteId: "site_unknown0000000", secret: own.secret }),
      await deliver(event, { siteId: unconnected.site.id, secret: own.secret }),
    ];
    for (const refused of refusals) {
      expect(refused.status).toBe(400);
      expect(refused.body.data).toMatchObject({
        reason: "INVALID_SIGNATURE",
        issues: [{ path: ["stripe-signature"] }],
      });
      expect(refused.body.data.requestId).toEqual(expect.any(String));
    }
    expect(await countIngestRows(app.db.prisma, own.workspace.id)).toEqual(NOTHING_WRITTEN);
    expect(await countIngestRows(app.db.prisma, unconnected.workspace.id)).toEqual(NOTHING_WRITTEN);
    expect(await metric("unverified", "invalid_signature")).toBe(failuresBefore + refusals.length);
    // A body altered after signing fails too (the signature covers the exact bytes).
    const payload = JSON.stringify(event);
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: own.secret });
    const altered = await fetch(`${app.baseUrl}/api/webhooks/stripe/${site}`, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": header },
      body: payload.replace("2900", "1"),
    });
    expect(altered.status).toBe(400);
    // Within the tolerance either way, the same event is accepted (once; then it is a duplicate).
    const ahead = await deliver(event, {
      siteId: site,
      secret: own.secret,
      timestamp: Math.floor(Date.now() / 1000) + 240,
    });
    expect(ahead.body).toMatchObject({ outcome: "recorded" });
    const recent = await deliver(event, {
      siteId: site,
      secret: own.secret,
      timestamp: Math.floor(Date.now() / 1000) - 240,
    });
    expect(recent.status).toBe(200);
    expect(recent.body).toMatchObject({ outcome: "duplicate" });
  });

  it("acknowledges other event types with 2xx, writes nothing, and counts them in /metrics", async () => {
    const own = await connectedSite();
    const before = await metric("invoice.paid", "ignored", "unhandled_type");
    const ignored = await deliver(stripeEvent("invoice.paid"), { secret: own.secret, siteId: own.site.id });
    expect(ignored.status).toBe(200);
    expect(ignored.body).toEqual({ received: true, outcome: "ignored", reason: "unhandled_type" });
    expect(await countIngestRows(app.db.prisma, own.workspace.id)).toEqual(NOTHING_WRITTEN);
    expect(await metric("invoice.paid", "ignored", "unhandled_type")).toBe(before + 1);
  });

  it("acknowledges a checkout whose client_reference_id is not a usable visitor id, naming the field", async () => {
    const own = await connectedSite();
    const before = await metric("checkout.session.completed", "ignored", "invalid_field");
    const event = stripeEvent("checkout.session.completed", { object: { client_reference_id: "undefined" } });
    const ignored = await deliver(event, { secret: own.secret, siteId: own.site.id });
    expect(ignored.status).toBe(200);
    expect(ignored.body).toMatchObject({
      received: true,
      outcome: "ignored",
      reason: "invalid_field",
      field: "data.object.client_reference_id",
      issues: [{ path: ["data", "object", "client_reference_id"], message: "is a placeholder, not an identifier" }],
    });
    expect(await countIngestRows(app.db.prisma, own.workspace.id)).toEqual(NOTHING_WRITTEN);
    expect(await metric("checkout.session.completed", "ignored", "invalid_field")).toBe(before + 1);
  });

  it.each([
    ["255 characters", `cus_${"x".repeat(251)}`, "must be at most 254 characters"],
    ["a NUL", "cus_R7m\u0000x", "must not contain NUL characters or unpaired UTF-16 surrogates"],
    ["a lone surrogate", "cus_R7m\ud800", "must not contain NUL characters or unpaired UTF-16 surrogates"],
    ["the placeholder null", "null", "is a placeholder, not an identifier"],
    ["nothing", "", "must not be empty or blank"],
  ])(
    "acknowledges a subscription whose customer is %s: 200 ignored naming it, nothing written",
    async (_, customer, message) => {
      const own = await connectedSite();
      const type = "customer.subscription.updated";
      const before = await metric(type, "ignored", "invalid_field");
      const ignored = await deliver(stripeEvent(type, { object: { customer } }), {
        secret: own.secret,
        siteId: own.site.id,
      });
      expect(ignored.status).toBe(200);
      expect(ignored.body).toEqual({
        received: true,
        outcome: "ignored",
        reason: "invalid_field",
        field: "data.object.customer",
        issues: [expect.objectContaining({ path: ["data", "object", "customer"], message })],
      });
      expect(await countIngestRows(app.db.prisma, own.workspace.id)).toEqual(NOTHING_WRITTEN);
      expect(await metric(type, "ignored", "invalid_field")).toBe(before + 1);
    },
  );

  it("acknowledges a checkout with an unusable customer, amount or date, naming the field", async () => {
    const own = await connectedSite();
    const target = { secret: own.secret, siteId: own.site.id };
    const checkout = () => stripeEvent("checkout.session.completed", { object: { client_reference_id: `v_${uid()}` } });
    const fieldOf = async (payload: unknown) => {
      const answer = await deliver(payload, target);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ outcome: "ignored", reason: "invalid_field" });
      return answer.body.field;
    };
    expect(await fieldOf(stripeEvent("checkout.session.completed", { object: { customer: "cus_\u0000" } }))).toBe(
      "data.object.customer",
    );
    // Numbers JSON.parse alters (the signature covers this exact text).
    for (const amount of ["9007199254740993", "-0", "12.5"]) {
      const text = JSON.stringify(checkout()).replace('"amount_total":2900', `"amount_total":${amount}`);
      expect(text).toContain(`"amount_total":${amount}`);
      expect(await fieldOf(text)).toBe("data.object.amount_total");
    }
    expect(await fieldOf({ ...checkout(), created: 1e15 })).toBe("created");
    expect(await countIngestRows(app.db.prisma, own.workspace.id)).toEqual(NOTHING_WRITTEN);
  });

  it("leaves the public server-events schema unchanged: it refuses a stripeCustomerId", async () => {
    const own = await connectedSite();
    const refused = await rest(`/tracking/server-events?workspaceId=${own.workspace.id}`, own.cookie, {
      siteId: own.site.id,
      events: [{ type: "signup", visitorId: `v_${uid()}`, stripeCustomerId: "cus_forged" }],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.data.issues[0]?.path).toEqual(["events", 0]);
    expect(await countIngestRows(app.db.prisma, own.workspace.id)).toEqual(NOTHING_WRITTEN);
  });
});
