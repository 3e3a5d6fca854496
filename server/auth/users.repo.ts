import type { PrismaClient } from "../../generated/prisma/client.ts";
import { newId } from "../db/ids.ts";

/** All user and membership reads and writes. */
export function findUserByEmail(prisma: PrismaClient, email: string) {
  return prisma.user.findUnique({ where: { email: email.trim().toLowerCase() } });
}

export function createUser(prisma: PrismaClient, data: { email: string; name?: string; passwordHash: string }) {
  return prisma.user.create({
    data: {
      id: newId("usr"),
      email: data.email.trim().toLowerCase(),
      name: data.name ?? null,
      passwordHash: data.passwordHash,
    },
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

/** The user with the workspaces they belong to and their role in each, oldest membership first. */
export async function userWithWorkspaces<TUser extends { id: string }>(prisma: PrismaClient, user: TUser) {
  const memberships = await listMemberships(prisma, user.id);
  return { user, workspaces: memberships.map((m) => ({ id: m.workspace.id, name: m.workspace.name, role: m.role })) };
}

/** A new password ends every session of the user (see `endSessions`). */
export function updatePasswordHash(prisma: PrismaClient, userId: string, passwordHash: string) {
  return prisma.user.update({
    where: { id: userId },
    data: { passwordHash, sessionGeneration: { increment: 1 } },
    select: { id: true, email: true },
  });
}

/**
 * Ends every session of the user, wherever the sessions are stored (Redis, or an embedded
 * server's memory that another process cannot reach): sessions remember the generation they
 * were created under, and the session check refuses them once it has moved on.
 */
export function endSessions(prisma: PrismaClient, userId: string) {
  return prisma.user.update({
    where: { id: userId },
    data: { sessionGeneration: { increment: 1 } },
    select: { id: true, email: true, sessionGeneration: true },
  });
}
