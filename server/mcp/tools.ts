import { z } from "zod";
import { requireScope, type TApiKeyPrincipal, type TApiKeyScope } from "../api-keys/api-keys.ts";
import type { TDatabase } from "../db/database.ts";
import { DomainError, validationFailed } from "../errors/domain-error.ts";
import type { Metrics } from "../infra/metrics.ts";
import { consumePoint, type TRateLimitState } from "../infra/rate-limit.ts";
import type { TRateLimiters } from "../infra/rate-limiters.ts";
import { getProfile, lookupProfile } from "../tracking/read-profiles.ts";
import { ingestEvents } from "../tracking/ingest/ingest-events.ts";
import { ZRecordServerEventsBody } from "../tracking/server-event.schema.ts";
import { ZLookupInput } from "../tracking/profile-lookup.schema.ts";

/** What a tool call runs with: the authenticated key and the process's dependencies. */
export type TToolContext = {
  db: TDatabase;
  limiters: Pick<TRateLimiters, "apiKey">;
  metrics: Metrics;
  key: TApiKeyPrincipal;
  /** Reports the key's rate-limit state (HTTP: the `RateLimit-*` headers; stdio: nowhere). */
  onRateLimit(state: TRateLimitState): void;
};

const RECENT_TIMELINE = 20;

export const ZLookupProfileToolInput = ZLookupInput.safeExtend({
  timelineLimit: z
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .describe(`Timeline entries, newest first (default ${RECENT_TIMELINE}).`),
});

type TToolResult = Record<string, unknown>;

/** A tool as the server lists and calls it: `call` checks the input against `input` first. */
type TTool = {
  name: string;
  description: string;
  scope: TApiKeyScope;
  input: z.ZodType;
  call(ctx: TToolContext, args: unknown): Promise<TToolResult>;
};

function defineTool<S extends z.ZodType>(tool: {
  name: string;
  description: string;
  scope: TApiKeyScope;
  input: S;
  run: (ctx: TToolContext, input: z.output<S>) => Promise<TToolResult>;
}): TTool {
  const { run, ...meta } = tool;
  return {
    ...meta,
    async call(ctx, args) {
      const parsed = tool.input.safeParse(args ?? {});
      if (!parsed.success) throw validationFailed(parsed.error.issues);
      return run(ctx, parsed.data);
    },
  };
}

/** The tools, each with the scope it needs and the zod schema its input is listed and checked with. */
export const TOOLS: TTool[] = [
  defineTool({
    name: "write_custom_events",
    description:
      "Record up to 50 server-side events for one tracking site of the key's workspace (the same body and limits as " +
      "POST /api/tracking/server-events). A `userId` is your customer's own user id. Events with a `messageId` " +
      "already recorded come back as `duplicate`. Needs scope write:custom_events.",
    scope: "write:custom_events",
    input: ZRecordServerEventsBody,
    run: async (ctx, body) => {
      const actor = { kind: "apiKey", keyId: ctx.key.id } as const;
      const result = await ingestEvents(ctx.db, { workspaceId: ctx.key.workspaceId, actor, body });
      ctx.metrics.inc("server_events_recorded_total", "Server events recorded.", {}, result.accepted);
      ctx.metrics.inc("server_events_duplicates_total", "Server events reported as duplicates.", {}, result.duplicates);
      return result;
    },
  }),
  defineTool({
    name: "lookup_profile",
    description:
      "Find the profile owning a visitorId or an email in the key's workspace: identifiers, funnel stages, counters " +
      "and its recent timeline (`profile: null` when none). Needs scope read:profiles.",
    scope: "read:profiles",
    input: ZLookupProfileToolInput,
    run: async (ctx, input) => {
      const { prisma } = ctx.db;
      const profile = await lookupProfile(prisma, ctx.key.workspaceId, input);
      if (!profile) return { profile: null, timeline: [] };
      const limit = input.timelineLimit ?? RECENT_TIMELINE;
      const full = await getProfile(prisma, ctx.key.workspaceId, profile.id, { limit });
      return { profile: full.profile, timeline: full.timeline.items };
    },
  }),
];

/**
 * Runs one tool call: scope, then one point of the key's rate limit (spent before validation, so
 * malformed floods count too), then the input checked against the tool's zod schema, so errors
 * carry the same reasons and field paths as the REST endpoint.
 */
export async function callTool(ctx: TToolContext, name: string, args: unknown): Promise<TToolResult> {
  const tool = TOOLS.find((t) => t.name === name);
  if (!tool) {
    throw new DomainError("NOT_FOUND", `No tool named ${name}`, [
      { path: ["name"], code: "not_found", message: "unknown tool" },
    ]);
  }
  requireScope(ctx.key, tool.scope);
  ctx.onRateLimit(await consumePoint(ctx.limiters.apiKey, ctx.key.id));
  return tool.call(ctx, args);
}
