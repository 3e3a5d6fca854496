import { randomBytes } from "node:crypto";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { hashPassword } from "../auth/passwords.ts";
import { createUser } from "../auth/users.repo.ts";
import { countUsers, createSite, createWorkspace } from "../workspaces/workspaces.repo.ts";

export type TDemoLogin = { email: string; password: string; workspaceId: string; siteId: string; funnelId: string };

/** On an empty database, a demo user, workspace, default funnel and site to try the API with. */
export async function seedDemoIfEmpty(prisma: PrismaClient): Promise<TDemoLogin | null> {
  if ((await countUsers(prisma)) > 0) return null;
  const email = "demo@example.com";
  const password = randomBytes(9).toString("base64url");
  const user = await createUser(prisma, { email, name: "Demo User", passwordHash: await hashPassword(password) });
  const { workspace, defaultFunnel } = await createWorkspace(prisma, { name: "Demo workspace", ownerId: user.id });
  const site = await createSite(prisma, {
    workspaceId: workspace.id,
    funnelId: defaultFunnel.id,
    domain: "example.com",
    name: "Demo site",
  });
  return { email, password, workspaceId: workspace.id, siteId: site.id, funnelId: defaultFunnel.id };
}
