import type { WorkspaceRole } from "../../generated/prisma/client.ts";
import { withSqlClient, type TDatabase } from "../db/database.ts";

/**
 * The reads every API call makes to check access, on raw `pg` as named prepared statements (a
 * Prisma read costs several times the CPU of the same SELECT). Deliberately not cached: a deleted
 * user or a removed member must lose access on the very next request, on every instance.
 */
/** The session's user, with the session generation its session must still match. */
export type TSessionUser = { id: string; email: string; name: string | null; sessionGeneration: number };

export async function findSessionUser(db: TDatabase, userId: string): Promise<TSessionUser | null> {
  const { rows } = await withSqlClient(db, (client) =>
    client.query<TSessionUser>({
      name: "access_session_user",
      text: 'SELECT id, email, name, session_generation AS "sessionGeneration" FROM users WHERE id = $1',
      values: [userId],
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
