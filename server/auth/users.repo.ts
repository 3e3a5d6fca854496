import type { PrismaClient, WorkspaceRole } from "../../generated/prisma/client.ts";
import { newId } from "../db/ids.ts";

/** All user and membership reads and writes. */
export function findUserByEmail(prisma: PrismaClient, email: string) {
  return prisma.user.findUnique({ where: { email: email.trim().toLowerCase() } });
}

export function findUserById(prisma: PrismaClient, id: string) {
  return prisma.user.findUnique({ where: { id }, select: { id: true, email: true, name: true } });
}

export function createUser(prisma: PrismaClient, data: { email: string; name?: string; passwordHash: string }) {
  return prisma.user.create({
    data: { id: newId("usr"), email: data.email.trim().toLowerCase(), name: data.name ?? null, passwordHash: data.passwordHash },
    select: { id: true, email: true, name: true },
  });
}

export function listMemberships(prisma: PrismaClient, userId: string) {
  return prisma.workspaceMember.findMany({
    where: { userId },
    select: { role: true, workspace: { select: { id: true, name: true } } },
    orderBy: { createdAt: "asc" },
  });
}

export async function findMembershipRole(prisma: PrismaClient, workspaceId: string, userId: string): Promise<WorkspaceRole | null> {
  const m = await prisma.workspaceMember.findUnique({ where: { workspaceId_userId: { workspaceId, userId } }, select: { role: true } });
  return m?.role ?? null;
}

export function updatePasswordHash(prisma: PrismaClient, userId: string, passwordHash: string) {
  return prisma.user.update({ where: { id: userId }, data: { passwordHash }, select: { id: true, email: true } });
}
