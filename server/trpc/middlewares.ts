import { TRPCError } from "@trpc/server";
import { z } from "zod";
import type { WorkspaceRole } from "../../generated/prisma/client.ts";
import { findRole, findSessionUser } from "../auth/access.repo.ts";
import type { TDatabase } from "../db/database.ts";
import { ZStorableId } from "../db/storable.ts";
import { databaseUnavailable, isTransientDatabaseError } from "../db/transient-errors.ts";
import { DomainError } from "../errors/domain-error.ts";
import { consumePoint, RateLimitedError, setRateLimitHeaders } from "../infra/rate-limit.ts";
import { DOMAIN_TO_TRPC } from "../errors/error-map.ts";
import { middleware, procedure } from "./init.ts";

/**
 * Maps a DomainError thrown anywhere below to its tRPC code, and sets `Retry-After` when the
 * error says when to come back (429, 503). A lost or refused database connection is such a 503.
 */
const mapDomainErrors = middleware(async ({ ctx, next }) => {
  const result = await next();
  if (result.ok) return result;
  const transient = isTransientDatabaseError(result.error.cause);
  if (transient) ctx.logger.warn("database unavailable", { err: result.error.cause });
  const cause = transient ? databaseUnavailable(result.error.cause) : result.error.cause;
  if (!(cause instanceof DomainError)) return result;
  if (cause.retryAfterSeconds !== undefined) ctx.setHeader("Retry-After", String(cause.retryAfterSeconds));
  if (cause instanceof RateLimitedError) setRateLimitHeaders(ctx.setHeader, cause.rateLimit);
  return { ...result, error: new TRPCError({ code: DOMAIN_TO_TRPC[cause.code], message: cause.message, cause }) };
});

/** The role read with the session user, for the workspace the raw input named (see requireRole). */
type TPrefetchedRole = { workspaceId: string | null; role: WorkspaceRole | null };

/**
 * Requires a logged-in session whose user still exists and whose sessions have not been ended
 * since (password change, `admin session revoke`); narrows `ctx.user`. The generation comes with
 * the user row this check reads anyway, so it costs nothing per request; so does the role in the
 * workspace the request names, which the workspace procedures check after validating their input.
 */
const requireSession = middleware(async ({ ctx, next, getRawInput }) => {
  const userId = ctx.session.userId;
  const workspaceId = userId ? await rawWorkspaceId(getRawInput) : null;
  const row = userId ? await findSessionUser(ctx.db, userId, workspaceId) : null;
  if (!row && ctx.session.ended) {
    throw new DomainError("UNAUTHENTICATED", "Your session has expired or was ended: log in again");
  }
  if (!row) throw new DomainError("UNAUTHENTICATED", "Log in first: this endpoint needs a session cookie");
  const { sessionGeneration, role, ...user } = row;
  if (sessionGeneration !== ctx.session.generation) {
    // Refused either way; removing it from the store only saves space, so a store error is moot.
    await ctx.session.signOut().catch(() => undefined);
    throw new DomainError(
      "UNAUTHENTICATED",
      "This session has ended (password changed or sessions revoked); log in again",
    );
  }
  const prefetchedRole: TPrefetchedRole = { workspaceId, role };
  return next({ ctx: { user, prefetchedRole } });
});

export const ZWorkspaceScope = z.object({
  workspaceId: ZStorableId(40)
    .describe("The workspace the request acts in; the session user must be a member.")
    .meta({ example: "ws_123" }),
});

/**
 * The raw input's `workspaceId` if it is a valid one (the procedure validates its whole input
 * later, and reports what is wrong with it then); else null.
 */
async function rawWorkspaceId(getRawInput: () => Promise<unknown>): Promise<string | null> {
  // A body that does not parse fails here again when the procedure reads its input, at the same point as before.
  const raw = await getRawInput().catch(() => undefined);
  const parsed = ZWorkspaceScope.shape.workspaceId.safeParse((raw as { workspaceId?: unknown } | null)?.workspaceId);
  return parsed.success ? parsed.data : null;
}

const WRITE_ROLES: readonly WorkspaceRole[] = ["ADMIN", "MANAGER"];

/**
 * The caller's role in the workspace. A missing workspace and one the user is not in answer the
 * same 403, so ids of other tenants cannot be probed; VIEW_ONLY members may only read.
 */
async function requireRole(
  ctx: { db: TDatabase; prefetchedRole: TPrefetchedRole },
  userId: string,
  workspaceId: string,
  access: "read" | "write",
) {
  const { prefetchedRole } = ctx;
  const role =
    prefetchedRole.workspaceId === workspaceId ? prefetchedRole.role : await findRole(ctx.db, workspaceId, userId);
  if (!role) {
    throw new DomainError("WORKSPACE_FORBIDDEN", "You are not a member of this workspace", [
      { path: ["workspaceId"], code: "forbidden", message: "not a workspace you belong to" },
    ]);
  }
  if (access === "write" && !WRITE_ROLES.includes(role)) {
    throw new DomainError("ROLE_FORBIDDEN", `Your role ${role} may read this workspace but not write to it`, [
      { path: ["workspaceId"], code: "forbidden", message: `role ${role} is read-only` },
    ]);
  }
  return { id: workspaceId, role };
}

/** The named procedures every router builds on. */
export const publicProcedure = procedure.use(mapDomainErrors);
export const authedProcedure = publicProcedure.use(requireSession);

export const workspaceReadProcedure = authedProcedure
  .input(ZWorkspaceScope)
  .use(async ({ ctx, input, next }) =>
    next({ ctx: { workspace: await requireRole(ctx, ctx.user.id, input.workspaceId, "read") } }),
  );

/**
 * Writes of server events: one rate-limit point per request (each carries up to 50 events) per
 * session user, spent before input validation so malformed floods count too; then write access.
 */
export const serverEventsProcedure = authedProcedure
  .use(async ({ ctx, next }) => {
    setRateLimitHeaders(ctx.setHeader, await consumePoint(ctx.limiters.serverEvents, ctx.user.id));
    return next();
  })
  .input(ZWorkspaceScope)
  .use(async ({ ctx, input, next }) =>
    next({ ctx: { workspace: await requireRole(ctx, ctx.user.id, input.workspaceId, "write") } }),
  );

/** Managing the workspace itself (API keys): ADMIN only. */
export const workspaceAdminProcedure = authedProcedure.input(ZWorkspaceScope).use(async ({ ctx, input, next }) => {
  const workspace = await requireRole(ctx, ctx.user.id, input.workspaceId, "read");
  if (workspace.role !== "ADMIN") {
    throw new DomainError("ROLE_FORBIDDEN", `Your role ${workspace.role} may not manage this workspace; ADMIN may`, [
      { path: ["workspaceId"], code: "forbidden", message: `role ${workspace.role} is not ADMIN` },
    ]);
  }
  return next({ ctx: { workspace } });
});
