import { randomBytes } from "node:crypto";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { hashPassword } from "../auth/passwords.ts";
import { createUser } from "../auth/users.repo.ts";
import { countUsers, createSite, createWorkspace } from "../workspaces/workspaces.repo.ts";

export const DEMO_EMAIL = "demo@example.com";

export type TDemoLogin = { email: string; password: string; workspaceId: string; siteId: string; funnelId: string };

/** On an empty database, a demo user, workspace, default funnel and site to try the API with. */
export async function seedDemoIfEmpty(prisma: PrismaClient): Promise<TDemoLogin | null> {
  if ((await countUsers(prisma)) > 0) return null;
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
 * workspace if there is one, else the oldest workspace; with its oldest site.
 */
export async function findKnownWorkspace(prisma: PrismaClient): Promise<TKnownWorkspace | null> {
  const oldestFirst = { createdAt: "asc" } as const;
  const demo = await prisma.workspace.findFirst({
    where: { members: { some: { user: { email: DEMO_EMAIL } } } },
    orderBy: oldestFirst,
  });
  const workspace = demo ?? (await prisma.workspace.findFirst({ orderBy: oldestFirst }));
  if (!workspace) return null;
  const site = await prisma.trackingSite.findFirst({ where: { workspaceId: workspace.id }, orderBy: oldestFirst });
  return {
    workspaceId: workspace.id,
    workspaceName: workspace.name,
    isDemo: demo !== null,
    siteId: site?.id ?? null,
    domain: site?.domain ?? null,
  };
}
