import type { PrismaClient, WorkspaceRole } from "../../generated/prisma/client.ts";
import type { TDatabase } from "../db/database.ts";
import { newId } from "../db/ids.ts";
import { preparedQuery } from "../db/sql.ts";

/** All user and membership reads and writes. */
export type TUserRow = {
  id: string;
  email: string;
  name: string | null;
  passwordHash: string;
  sessionGeneration: number;
  createdAt: Date;
};

/** Raw `pg`, not Prisma: login reads it, and a login must not load Prisma's query compiler. */
export async function findUserByEmail(db: TDatabase, email: string): Promise<TUserRow | null> {
  const [user] = await preparedQuery(db, "users_by_email").rows<TUserRow>`
    SELECT id, email, name, password_hash AS "passwordHash", session_generation AS "sessionGeneration",
      created_at AS "createdAt"
    FROM users WHERE email = ${email.trim().toLowerCase()}`;
  return user ?? null;
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

/** The user with the workspaces they belong to and their role in each, oldest membership first (raw `pg`, as login). */
export async function userWithWorkspaces<TUser extends { id: string }>(db: TDatabase, user: TUser) {
  const workspaces = await preparedQuery(db, "users_workspaces").rows<{
    id: string;
    name: string;
    role: WorkspaceRole;
  }>`
    SELECT w.id, w.name, m.role::text AS role
    FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
    WHERE m.user_id = ${user.id} ORDER BY m.created_at, w.id`;
  return { user, workspaces };
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
