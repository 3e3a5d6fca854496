import { randomBytes } from "node:crypto";
import { hashPassword } from "../auth/passwords.ts";
import { createUser } from "../auth/users.repo.ts";
import type { TDatabase } from "../db/database.ts";
import { preparedQuery } from "../db/sql.ts";
import { createSite, createWorkspace } from "../workspaces/workspaces.repo.ts";

export const DEMO_EMAIL = "demo@example.com";

export type TDemoLogin = { email: string; password: string; workspaceId: string; siteId: string; funnelId: string };

/**
 * On an empty database, a demo user, workspace, default funnel and site to try the API with.
 * Whether there is anyone is read with raw `pg`: every start asks, and only a first start writes
 * (through Prisma, whose query compiler a start otherwise never loads).
 */
export async function seedDemoIfEmpty(db: TDatabase): Promise<TDemoLogin | null> {
  const [anyone] = await preparedQuery(db, "demo_any_user").rows<{ found: boolean }>`
    SELECT EXISTS (SELECT 1 FROM users) AS found`;
  if (anyone?.found) return null;
  const { prisma } = db;
  const email = DEMO_EMAIL;
  const password = randomBytes(9).toString("base64url");
  const user = await createUser(prisma, { email, name: "Demo User", passwordHash: await hashPassword(password) });
  const { workspace, defaultFunnel } = await createWorkspace(prisma, { name: "Demo workspace", ownerId: user.id });
  const site = await createSite(prisma, {
    workspaceId: workspace.id,
    funnelId: defaultFunnel.id,
    // A page served from http://localhost:<any port> may load the snippet for it (README, "Track a website").
    domain: "localhost",
    name: "Demo site",
  });
  return { email, password, workspaceId: workspace.id, siteId: site.id, funnelId: defaultFunnel.id };
}

export type TKnownWorkspace = {
  workspaceId: string;
  workspaceName: string;
  /** Whether it is the demo user's workspace (then the banner names that login). */
  isDemo: boolean;
  siteId: string | null;
  domain: string | null;
};

/**
 * On a later start, the ids to try the API with again (never a password): the demo user's
 * workspace if there is one, else the oldest workspace; with its oldest site. One raw `pg`
 * statement: the banner must not load Prisma's query compiler (tens of MB for the process's life).
 */
export async function findKnownWorkspace(db: TDatabase): Promise<TKnownWorkspace | null> {
  const [known] = await preparedQuery(db, "banner_known_workspace").rows<TKnownWorkspace>`
    SELECT w.id AS "workspaceId", w.name AS "workspaceName", d.is_demo AS "isDemo", s.id AS "siteId", s.domain
    FROM (
      SELECT w.id, EXISTS (SELECT 1 FROM workspace_members m JOIN users u ON u.id = m.user_id
        WHERE m.workspace_id = w.id AND u.email = ${DEMO_EMAIL}) AS is_demo
      FROM workspaces w) AS d
    JOIN workspaces w ON w.id = d.id
    LEFT JOIN LATERAL (SELECT s.id, s.domain FROM tracking_sites s WHERE s.workspace_id = w.id
      ORDER BY s.created_at, s.id LIMIT 1) AS s ON true
    ORDER BY d.is_demo DESC, w.created_at, w.id
    LIMIT 1`;
  return known ?? null;
}
