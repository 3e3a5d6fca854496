import { exchange, jsonPost, restWriteUrl, trpcQueryUrl, trpcUrl, type THttpResult } from "./soak-http.ts";
import type { SoakLedger } from "./soak-ledger.ts";

/** Every identifier and messageId a hostile payload carries starts with this: none may be stored. */
export const HOSTILE_MARK = "hostile-";

export type THostileContext = {
  ledger: SoakLedger;
  base: string;
  cookie: string;
  workspaceId: string;
  siteId: string;
  /** A member of the workspace other than the caller (for a foreign userId). */
  otherUserId: string;
  /** Unique per attempt, so nothing a payload carries could collide with anything else. */
  tag: string;
};

export type THostilePayload = { name: string; send: (ctx: THostileContext) => Promise<THttpResult> };

const event = (ctx: THostileContext, extra: Record<string, unknown> = {}) => ({
  type: "signup",
  visitorId: `${HOSTILE_MARK}v-${ctx.tag}`,
  messageId: `${HOSTILE_MARK}m-${ctx.tag}-${Math.random().toString(36).slice(2, 8)}`,
  ...extra,
});

const rest = (
  ctx: THostileContext,
  name: string,
  body: unknown,
  headers: Record<string, string> = {},
  withSession = true,
) =>
  exchange(
    ctx.ledger,
    `hostile ${name}`,
    restWriteUrl(ctx.base, ctx.workspaceId),
    jsonPost(JSON.stringify(body), withSession ? ctx.cookie : undefined, headers),
  );

const trpc = (ctx: THostileContext, name: string, input: Record<string, unknown>) =>
  exchange(
    ctx.ledger,
    `hostile ${name}`,
    trpcUrl(ctx.base, "tracking.recordServerEvents"),
    jsonPost(JSON.stringify({ workspaceId: ctx.workspaceId, ...input }), ctx.cookie),
  );

const get = (ctx: THostileContext, name: string, url: string) =>
  exchange(ctx.ledger, `hostile ${name}`, url, { headers: { cookie: ctx.cookie } });

/**
 * A batch whose props hold `[[[…1…]]]` nested `depth` levels: small on the wire, deep for a recursive
 * parser or validator. Built as text: JSON.stringify itself would overflow the stack.
 */
function deeplyNestedBody(ctx: THostileContext, depth: number): string {
  const head = JSON.stringify({ siteId: ctx.siteId, events: [event(ctx, { props: { deep: 0 } })] });
  return head.replace(`"deep":0`, `"deep":${"[".repeat(depth)}1${"]".repeat(depth)}`);
}

/**
 * Requests an attacker or a broken client sends. Each must get a 4xx and write nothing; a batch
 * with one bad event among good ones checks that the good ones are not written either.
 */
export const HOSTILE_PAYLOADS: THostilePayload[] = [
  {
    name: "malformed JSON",
    send: (ctx) =>
      exchange(
        ctx.ledger,
        "hostile malformed JSON",
        restWriteUrl(ctx.base, ctx.workspaceId),
        jsonPost(`{"siteId":"${ctx.siteId}","events":[{"type":"signup",`, ctx.cookie),
      ),
  },
  {
    name: "text/plain body",
    send: (ctx) =>
      rest(ctx, "text/plain body", { siteId: ctx.siteId, events: [event(ctx)] }, { "content-type": "text/plain" }),
  },
  {
    name: "no session cookie",
    send: (ctx) => rest(ctx, "no session cookie", { siteId: ctx.siteId, events: [event(ctx)] }, {}, false),
  },
  {
    name: "cross-site Origin",
    send: (ctx) =>
      rest(ctx, "cross-site Origin", { siteId: ctx.siteId, events: [event(ctx)] }, { origin: "https://evil.example" }),
  },
  {
    name: "site of no workspace",
    send: (ctx) => rest(ctx, "site of no workspace", { siteId: "site_nosuchsite", events: [event(ctx)] }),
  },
  {
    name: "unknown key in one event of two",
    send: (ctx) =>
      rest(ctx, "unknown key in one event of two", {
        siteId: ctx.siteId,
        events: [event(ctx), event(ctx, { admin: true })],
      }),
  },
  {
    name: "unknown key (tRPC)",
    send: (ctx) => trpc(ctx, "unknown key (tRPC)", { siteId: ctx.siteId, events: [event(ctx, { isAdmin: 1 })] }),
  },
  {
    name: "placeholder visitorId",
    send: (ctx) =>
      trpc(ctx, "placeholder visitorId", { siteId: ctx.siteId, events: [event(ctx, { visitorId: "anonymous" })] }),
  },
  {
    name: "props over 8 KiB",
    send: (ctx) =>
      rest(ctx, "props over 8 KiB", {
        siteId: ctx.siteId,
        events: [event(ctx, { props: { blob: "x".repeat(9000) } })],
      }),
  },
  {
    name: "51 events",
    send: (ctx) => trpc(ctx, "51 events", { siteId: ctx.siteId, events: Array.from({ length: 51 }, () => event(ctx)) }),
  },
  {
    name: "timestamp 2 h ahead",
    send: (ctx) =>
      rest(ctx, "timestamp 2 h ahead", {
        siteId: ctx.siteId,
        events: [event(ctx, { timestamp: new Date(Date.now() + 2 * 3600_000).toISOString() })],
      }),
  },
  {
    name: "someone else's userId",
    send: (ctx) =>
      rest(ctx, "someone else's userId", {
        siteId: ctx.siteId,
        events: [event(ctx), event(ctx, { userId: ctx.otherUserId })],
      }),
  },
  {
    name: "repeated messageId in a batch",
    send: (ctx) => {
      const first = event(ctx);
      return rest(ctx, "repeated messageId in a batch", {
        siteId: ctx.siteId,
        events: [first, { ...first, type: "pageview" }],
      });
    },
  },
  // The ones below are the hostile inputs the hardening issue lists as answering 500.
  {
    name: "NUL in siteId",
    send: (ctx) => rest(ctx, "NUL in siteId", { siteId: `${ctx.siteId}\u0000`, events: [event(ctx)] }),
  },
  {
    name: "NUL in workspaceId",
    send: (ctx) =>
      exchange(
        ctx.ledger,
        "hostile NUL in workspaceId",
        restWriteUrl(ctx.base, `${ctx.workspaceId}\u0000`),
        jsonPost(JSON.stringify({ siteId: ctx.siteId, events: [event(ctx)] }), ctx.cookie),
      ),
  },
  {
    name: "timestamp year 0000",
    send: (ctx) =>
      rest(ctx, "timestamp year 0000", {
        siteId: ctx.siteId,
        events: [event(ctx, { timestamp: "0000-01-01T00:00:00Z" })],
      }),
  },
  {
    name: "sentAt year 9999 (tRPC)",
    send: (ctx) =>
      trpc(ctx, "sentAt year 9999 (tRPC)", {
        siteId: ctx.siteId,
        sentAt: "9999-12-31T00:00:00Z",
        events: [event(ctx)],
      }),
  },
  {
    name: "sentAt year 3000, timestamp now",
    send: (ctx) =>
      rest(ctx, "sentAt year 3000, timestamp now", {
        siteId: ctx.siteId,
        sentAt: "3000-01-01T00:00:00Z",
        events: [event(ctx, { timestamp: new Date().toISOString() })],
      }),
  },
  {
    name: "props nested 200,000 deep",
    send: (ctx) =>
      exchange(
        ctx.ledger,
        "hostile props nested 200,000 deep",
        restWriteUrl(ctx.base, ctx.workspaceId),
        jsonPost(deeplyNestedBody(ctx, 200_000), ctx.cookie),
      ),
  },
  {
    name: "NUL in lookup visitorId",
    send: (ctx) =>
      get(
        ctx,
        "NUL in lookup visitorId",
        `${ctx.base}/api/profiles/lookup?workspaceId=${ctx.workspaceId}` +
          `&visitorId=${encodeURIComponent(`${HOSTILE_MARK}\u0000`)}`,
      ),
  },
  {
    name: "NUL in a cursor (tRPC)",
    send: (ctx) =>
      get(
        ctx,
        "NUL in a cursor (tRPC)",
        trpcQueryUrl(ctx.base, "tracking.listEvents", {
          workspaceId: ctx.workspaceId,
          siteId: ctx.siteId,
          cursor: `x\u0000y`,
          limit: 5,
        }),
      ),
  },
];
