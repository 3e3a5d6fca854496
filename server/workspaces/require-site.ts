import type { PrismaClient } from "../../generated/prisma/client.ts";
import { DomainError } from "../errors/domain-error.ts";
import { findSiteInWorkspace } from "./workspaces.repo.ts";

/**
 * The site named by `siteId`, which must belong to the workspace; otherwise 403 naming `siteId`
 * (another tenant's site and a missing one look the same).
 */
export async function requireSiteInWorkspace(prisma: PrismaClient, workspaceId: string, siteId: string) {
  const site = await findSiteInWorkspace(prisma, workspaceId, siteId);
  if (!site) throw siteNotInWorkspace();
  return site;
}

/** The one refusal of a site that is not the workspace's (also raised by the ingest transaction's own lookup). */
export function siteNotInWorkspace(): DomainError {
  return new DomainError("SITE_NOT_IN_WORKSPACE", "siteId is not a tracking site of this workspace", [
    { path: ["siteId"], code: "forbidden", message: "not a tracking site of this workspace" },
  ]);
}
