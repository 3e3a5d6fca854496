import type { PrismaClient } from "../../generated/prisma/client.ts";

/** Rows the ingest path writes, counted for one workspace: "nothing written" means all zero. */
export async function countIngestRows(prisma: PrismaClient, workspaceId: string) {
  const where = { workspaceId };
  const [trackingEvents, profiles, identifiers, timeline, funnelLinks, merges] = await Promise.all([
    prisma.trackingEvent.count({ where }),
    prisma.profile.count({ where }),
    prisma.profileIdentifier.count({ where }),
    prisma.profileEvent.count({ where }),
    prisma.profileFunnelLink.count({ where }),
    prisma.profileMerge.count({ where }),
  ]);
  return { trackingEvents, profiles, identifiers, timeline, funnelLinks, merges };
}

export const NOTHING_WRITTEN = {
  trackingEvents: 0,
  profiles: 0,
  identifiers: 0,
  timeline: 0,
  funnelLinks: 0,
  merges: 0,
};

/** Everything stored about one profile: the row, its identifiers, timeline, funnel links. */
export async function loadProfile(prisma: PrismaClient, profileId: string) {
  const [profile, identifiers, timeline, funnelLinks] = await Promise.all([
    prisma.profile.findUniqueOrThrow({ where: { id: profileId } }),
    prisma.profileIdentifier.findMany({ where: { profileId }, orderBy: [{ kind: "asc" }, { value: "asc" }] }),
    prisma.profileEvent.findMany({ where: { profileId }, orderBy: [{ occurredAt: "asc" }, { id: "asc" }] }),
    prisma.profileFunnelLink.findMany({ where: { profileId } }),
  ]);
  return { profile, identifiers, timeline, funnelLinks };
}
