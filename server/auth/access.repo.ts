import type { WorkspaceRole } from "../../generated/prisma/client.ts";
import type { TDatabase } from "../db/database.ts";
import { preparedQuery } from "../db/sql.ts";

/**
 * The reads every API call makes to check access, as named prepared statements on raw `pg` (a
 * Prisma read costs several times the CPU of the same SELECT). Deliberately not cached: a deleted
 * user or a removed member must lose access on the very next request, on every instance.
 */
/** The session's user, with the session generation its session must still match. */
export type TSessionUser = { id: string; email: string; name: string | null; sessionGeneration: number };

/**
 * The session's user and, in the same round trip, the user's role in the workspace the request
 * names (null: not a member, or no workspace named). The role is only a prefetch: the procedure
 * checks it once its input is validated, and reads it again if that names another workspace.
 */
export async function findSessionUser(
  db: TDatabase,
  userId: string,
  workspaceId: string | null,
): Promise<(TSessionUser & { role: WorkspaceRole | null }) | null> {
  const [row] = await preparedQuery(db, "access_session_user_role").rows<TSessionUser & { role: WorkspaceRole | null }>`
    SELECT u.id, u.email, u.name, u.session_generation AS "sessionGeneration",
      (SELECT m.role::text FROM workspace_members m WHERE m.workspace_id = ${workspaceId} AND m.user_id = u.id) AS role
    FROM users u WHERE u.id = ${userId}`;
  return row ?? null;
}

export async function findRole(db: TDatabase, workspaceId: string, userId: string): Promise<WorkspaceRole | null> {
  const [row] = await preparedQuery(db, "access_role").rows<{ role: WorkspaceRole }>`
    SELECT role::text AS role FROM workspace_members WHERE workspace_id = ${workspaceId} AND user_id = ${userId}`;
  return row?.role ?? null;
}
