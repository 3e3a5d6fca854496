import type { PrismaClient, WorkspaceRole } from "../../generated/prisma/client.ts";
import { newId } from "../db/ids.ts";
import type { TFunnelStage } from "../db/enums.ts";
import type { TDatabase } from "../db/database.ts";
import { preparedQuery } from "../db/sql.ts";

/** Creates a workspace with its default funnel and its owner as ADMIN, in one transaction. */
export function createWorkspace(prisma: PrismaClient, data: { name: string; ownerId: string }) {
  const id = newId("ws");
  return prisma.$transaction(async (tx) => {
    const workspace = await tx.workspace.create({ data: { id, name: data.name } });
    const funnel = await tx.funnel.create({
      data: { id: newId("fnl"), workspaceId: id, name: "Default funnel", isDefault: true },
    });
    await tx.workspaceMember.create({ data: { workspaceId: id, userId: data.ownerId, role: "ADMIN" } });
    return { workspace, defaultFunnel: funnel };
  });
}

export type TMembershipChange =
  { outcome: "changed"; previousRole: WorkspaceRole | null } | { outcome: "not-a-member" } | { outcome: "last-admin" };

/**
 * Gives a user a role in a workspace (`role`), or removes them (`null`), unless that would leave
 * the workspace without an ADMIN. The check and the write run in one transaction holding the
 * workspace row's lock, so two operators removing the last two ADMINs at once cannot both win.
 */
export function changeMembership(
  prisma: PrismaClient,
  change: { workspaceId: string; userId: string; role: WorkspaceRole | null },
): Promise<TMembershipChange> {
  const { workspaceId, userId, role } = change;
  const key = { workspaceId_userId: { workspaceId, userId } };
  return prisma.$transaction(async (tx): Promise<TMembershipChange> => {
    await tx.$executeRaw`SELECT 1 FROM workspaces WHERE id = ${workspaceId} FOR UPDATE`;
    const previousRole = (await tx.workspaceMember.findUnique({ where: key, select: { role: true } }))?.role ?? null;
    if (role === null && previousRole === null) return { outcome: "not-a-member" };
    const losesAdmin = previousRole === "ADMIN" && role !== "ADMIN";
    if (losesAdmin && (await tx.workspaceMember.count({ where: { workspaceId, role: "ADMIN" } })) === 1) {
      return { outcome: "last-admin" };
    }
    if (role === null) await tx.workspaceMember.delete({ where: key });
    else await tx.workspaceMember.upsert({ where: key, create: { workspaceId, userId, role }, update: { role } });
    return { outcome: "changed", previousRole };
  });
}

export function findWorkspace(prisma: PrismaClient, id: string) {
  return prisma.workspace.findUnique({ where: { id } });
}

export function findDefaultFunnel(prisma: PrismaClient, workspaceId: string) {
  return prisma.funnel.findFirst({ where: { workspaceId }, orderBy: [{ isDefault: "desc" }, { createdAt: "asc" }] });
}

export function findFunnel(prisma: PrismaClient, workspaceId: string, funnelId: string) {
  return prisma.funnel.findFirst({ where: { id: funnelId, workspaceId } });
}

export function createSite(
  prisma: PrismaClient,
  data: { workspaceId: string; funnelId: string; domain: string; name?: string },
) {
  const domain = data.domain.trim().toLowerCase();
  return prisma.trackingSite.create({
    data: {
      id: newId("site"),
      workspaceId: data.workspaceId,
      funnelId: data.funnelId,
      domain,
      name: data.name ?? domain,
    },
  });
}

/**
 * Sets how far the site's browser door may advance a stage (the caller passes one of
 * BROWSER_STAGE_CEILINGS; the column's CHECK refuses anything else). A workspace id scopes it to
 * that workspace's sites; none: any site (the admin CLI). False when there is no such site.
 */
export async function setBrowserStageCeiling(
  prisma: PrismaClient,
  input: { siteId: string; workspaceId?: string; ceiling: TFunnelStage },
): Promise<boolean> {
  const { count } = await prisma.trackingSite.updateMany({
    where: { id: input.siteId, ...(input.workspaceId === undefined ? {} : { workspaceId: input.workspaceId }) },
    data: { browserStageCeiling: input.ceiling },
  });
  return count === 1;
}

export function listSites(prisma: PrismaClient, workspaceId: string) {
  return prisma.trackingSite.findMany({
    where: { workspaceId },
    select: { id: true, workspaceId: true, funnelId: true, domain: true, name: true, createdAt: true },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
}

/** The site only if it belongs to the workspace: callers cannot tell "other tenant's" from "absent". */
export function findSiteInWorkspace(prisma: PrismaClient, workspaceId: string, siteId: string) {
  return prisma.trackingSite.findFirst({
    where: { id: siteId, workspaceId },
    select: { id: true, workspaceId: true, funnelId: true, domain: true },
  });
}

/**
 * Any workspace's site by id: the public collect door names the site, and the site names its
 * workspace. Raw `pg`, like the rest of the ingest path: it never wakes Prisma's query compiler.
 */
export async function findSiteById(db: TDatabase, siteId: string): Promise<TSiteDomain | undefined> {
  const [site] = await preparedQuery(db, "site_by_id").rows<TSiteDomain>`
    SELECT id, workspace_id AS "workspaceId", domain,
      require_identity_verification AS "requireIdentityVerification", identity_secret AS "identitySecret"
    FROM tracking_sites WHERE id = ${siteId}`;
  return site;
}

export type TSiteDomain = {
  id: string;
  workspaceId: string;
  domain: string;
  requireIdentityVerification: boolean;
  /** Sealed (secret-box); opened only by the collect door of a site that requires verification. */
  identitySecret: string | null;
};
