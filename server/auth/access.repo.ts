import type { WorkspaceRole } from "../../generated/prisma/client.ts";
import { withSqlClient, type TDatabase } from "../db/database.ts";

/**
 * The reads every API call makes to check access, on raw `pg` as named prepared statements (a
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
  const { rows } = await withSqlClient(db, (client) =>
    client.query<TSessionUser & { role: WorkspaceRole | null }>({
      name: "access_session_user_role",
      text: `SELECT u.id, u.email, u.name, u.session_generation AS "sessionGeneration",
          (SELECT m.role::text FROM workspace_members m WHERE m.workspace_id = $2 AND m.user_id = u.id) AS role
        FROM users u WHERE u.id = $1`,
      values: [userId, workspaceId],
    }),
  );
  return rows[0] ?? null;
}

export async function findRole(db: TDatabase, workspaceId: string, userId: string): Promise<WorkspaceRole | null> {
  const { rows } = await withSqlClient(db, (client) =>
    client.query<{ role: WorkspaceRole }>({
      name: "access_role",
      text: "SELECT role::text AS role FROM workspace_members WHERE workspace_id = $1 AND user_id = $2",
      values: [workspaceId, userId],
    }),
  );
  return rows[0]?.role ?? null;
}
