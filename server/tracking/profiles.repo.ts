import type { EventSource, IdentifierKind, PrismaClient } from "../../generated/prisma/client.ts";

/** Reads behind the profile and event endpoints (tenant first in every filter). */
export function findProfileIdByIdentifier(
  prisma: PrismaClient,
  workspaceId: string,
  kind: IdentifierKind,
  value: string,
) {
  return prisma.profileIdentifier.findUnique({
    where: { workspaceId_kind_value: { workspaceId, kind, value } },
    select: { profileId: true },
  });
}

export function findProfileRow(prisma: PrismaClient, workspaceId: string, id: string) {
  return prisma.profile.findFirst({ where: { id, workspaceId } });
}

export function findProfileDetails(prisma: PrismaClient, profileId: string) {
  return Promise.all([
    prisma.profileIdentifier.findMany({
      where: { profileId },
      select: { kind: true, value: true },
      orderBy: [{ kind: "asc" }, { createdAt: "asc" }],
    }),
    prisma.profileFunnelLink.findMany({
      where: { profileId },
      select: {
        funnelId: true,
        currentStage: true,
        stageChangedAt: true,
        eventCount: true,
        firstSeenAt: true,
        lastSeenAt: true,
      },
      orderBy: { createdAt: "asc" },
    }),
  ]);
}

export type TCursor = { at: Date; id: string };

/** Newest first, keyset-paginated on (occurredAt, id): stable while new rows arrive. */
const before = (c: TCursor | undefined) =>
  c ? { OR: [{ occurredAt: { lt: c.at } }, { occurredAt: c.at, id: { lt: c.id } }] } : {};

export function findTimelinePage(prisma: PrismaClient, profileId: string, cursor: TCursor | undefined, take: number) {
  return prisma.profileEvent.findMany({
    where: { profileId, ...before(cursor) },
    orderBy: [{ occurredAt: "desc" }, { id: "desc" }],
    take,
    select: { id: true, type: true, occurredAt: true, funnelId: true, trackingEventId: true, detail: true },
  });
}

/** The source (server or browser) of each logged event, by id. */
export async function findEventSources(
  prisma: PrismaClient,
  workspaceId: string,
  ids: string[],
): Promise<Map<string, EventSource>> {
  if (ids.length === 0) return new Map();
  const rows = await prisma.trackingEvent.findMany({
    where: { workspaceId, id: { in: ids } },
    select: { id: true, source: true },
  });
  return new Map(rows.map((r) => [r.id, r.source]));
}

export function findSiteEventsPage(
  prisma: PrismaClient,
  workspaceId: string,
  siteId: string,
  cursor: TCursor | undefined,
  take: number,
) {
  return prisma.trackingEvent.findMany({
    where: { workspaceId, siteId, ...before(cursor) },
    orderBy: [{ occurredAt: "desc" }, { id: "desc" }],
    take,
  });
}

/** Where each profile lives now: itself, or the survivor it was merged into. */
export async function findLiveProfileIds(prisma: PrismaClient, ids: string[]): Promise<Map<string, string>> {
  const rows = await prisma.profile.findMany({ where: { id: { in: ids } }, select: { id: true, mergedIntoId: true } });
  return new Map(rows.map((r) => [r.id, r.mergedIntoId ?? r.id]));
}
