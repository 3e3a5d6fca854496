import type { PrismaClient, WorkspaceRole } from "../../generated/prisma/client.ts";
import { newId } from "../db/ids.ts";

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

export function upsertMember(prisma: PrismaClient, data: { workspaceId: string; userId: string; role: WorkspaceRole }) {
  return prisma.workspaceMember.upsert({
    where: { workspaceId_userId: { workspaceId: data.workspaceId, userId: data.userId } },
    create: data,
    update: { role: data.role },
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
