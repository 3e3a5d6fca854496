import { randomBytes } from "node:crypto";
import type { PrismaClient, WorkspaceRole } from "../../generated/prisma/client.ts";
import { hashPassword } from "../../server/auth/passwords.ts";
import { createUser } from "../../server/auth/users.repo.ts";
import { changeMembership, createSite, createWorkspace } from "../../server/workspaces/workspaces.repo.ts";

export const TEST_PASSWORD = "correct horse battery staple";

/** scrypt costs ~100 ms a call: tests hash each distinct password once. */
const hashes = new Map<string, Promise<string>>();
function cachedHash(password: string): Promise<string> {
  let hash = hashes.get(password);
  if (!hash) hashes.set(password, (hash = hashPassword(password)));
  return hash;
}

export function uniqueEmail(label = "user"): string {
  return `${label}-${randomBytes(5).toString("hex")}@example.test`;
}

export type TTestUser = { id: string; email: string; name: string | null; password: string };

/** A user who can log in with `password` (default TEST_PASSWORD). */
export async function createTestUser(
  prisma: PrismaClient,
  opts: { email?: string; password?: string; name?: string } = {},
): Promise<TTestUser> {
  const password = opts.password ?? TEST_PASSWORD;
  const user = await createUser(prisma, {
    email: opts.email ?? uniqueEmail(),
    name: opts.name,
    passwordHash: await cachedHash(password),
  });
  return { ...user, password };
}

/** A workspace with its default funnel; the owner becomes ADMIN. */
export function createTestWorkspace(prisma: PrismaClient, opts: { ownerId: string; name?: string }) {
  return createWorkspace(prisma, { ownerId: opts.ownerId, name: opts.name ?? "Test workspace" });
}

export function addMember(prisma: PrismaClient, opts: { workspaceId: string; userId: string; role: WorkspaceRole }) {
  return changeMembership(prisma, opts);
}

export function createTestSite(
  prisma: PrismaClient,
  opts: { workspaceId: string; funnelId: string; domain?: string; name?: string },
) {
  return createSite(prisma, { ...opts, domain: opts.domain ?? "shop.example.com" });
}

export type TSeededWorkspace = Awaited<ReturnType<typeof seedWorkspace>>;

/**
 * An ADMIN owner, a workspace with its default funnel and one site, plus one more user per
 * requested role (e.g. `roles: ["MANAGER", "VIEW_ONLY"]`) and one user who belongs to no workspace.
 */
export async function seedWorkspace(
  prisma: PrismaClient,
  opts: { name?: string; domain?: string; roles?: WorkspaceRole[] } = {},
) {
  const owner = await createTestUser(prisma, { email: uniqueEmail("owner"), name: "Owner" });
  const { workspace, defaultFunnel } = await createTestWorkspace(prisma, { ownerId: owner.id, name: opts.name });
  const site = await createTestSite(prisma, {
    workspaceId: workspace.id,
    funnelId: defaultFunnel.id,
    domain: opts.domain,
  });
  const members: Partial<Record<WorkspaceRole, TTestUser>> = { ADMIN: owner };
  for (const role of opts.roles ?? []) {
    if (members[role]) continue;
    const user = await createTestUser(prisma, { email: uniqueEmail(role.toLowerCase()) });
    await addMember(prisma, { workspaceId: workspace.id, userId: user.id, role });
    members[role] = user;
  }
  const outsider = await createTestUser(prisma, { email: uniqueEmail("outsider") });
  return { owner, workspace, funnel: defaultFunnel, site, members, outsider };
}

/** A short random tag for names and identifiers that must not collide between tests. */
export const uid = (): string => randomBytes(6).toString("hex");
