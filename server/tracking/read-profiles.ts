import type { PrismaClient } from "../../generated/prisma/client.ts";
import { DomainError } from "../errors/domain-error.ts";
import { requireSiteInWorkspace } from "../workspaces/require-site.ts";
import * as repo from "./profiles.repo.ts";

export const DEFAULT_PAGE_SIZE = 50;

/** Opaque keyset cursor: base64url of `<occurredAt ISO>|<id>`. */
export function encodeCursor(c: repo.TCursor): string {
  return Buffer.from(`${c.at.toISOString()}|${c.id}`).toString("base64url");
}

export const CURSOR_MESSAGE = "is not a cursor this API returned";

/** Exactly what encodeCursor writes for a storable date (years 0001-9999) and one of our ids. */
const CURSOR_TEXT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|([A-Za-z0-9_-]{1,64})$/;

/**
 * The cursor, or undefined for anything encodeCursor could not have written: a forged cursor
 * never reaches a query with a NUL, a bad id or a date PostgreSQL cannot hold.
 */
export function parseCursor(cursor: string): repo.TCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  const match = CURSOR_TEXT.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match) return undefined;
  const at = new Date(match[1]!);
  if (Number.isNaN(at.getTime()) || at.getUTCFullYear() < 1) return undefined;
  const parsed = { at, id: match[2]! };
  return encodeCursor(parsed) === cursor ? parsed : undefined;
}

export function decodeCursor(cursor: string | undefined): repo.TCursor | undefined {
  if (!cursor) return undefined;
  const parsed = parseCursor(cursor);
  if (!parsed) {
    throw new DomainError("VALIDATION_FAILED", "cursor is not one this API returned", [
      { path: ["cursor"], code: "invalid_cursor", message: CURSOR_MESSAGE },
    ]);
  }
  return parsed;
}

/** One page plus the cursor of the next, or null at the end. */
async function page<T extends { occurredAt: Date; id: string }>(fetch: (take: number) => Promise<T[]>, limit: number) {
  const rows = await fetch(limit + 1);
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor({ at: last.occurredAt, id: last.id }) : null };
}

async function describeProfile(prisma: PrismaClient, p: NonNullable<Awaited<ReturnType<typeof repo.findProfileRow>>>) {
  const [identifiers, funnelLinks] = await repo.findProfileDetails(prisma, p.id);
  return {
    id: p.id,
    identifiers,
    funnelLinks: funnelLinks.map((l) => ({
      funnelId: l.funnelId,
      currentStage: l.currentStage,
      stageChangedAt: l.stageChangedAt.toISOString(),
      eventCount: l.eventCount,
      firstSeenAt: l.firstSeenAt.toISOString(),
      lastSeenAt: l.lastSeenAt.toISOString(),
    })),
    eventCount: p.eventCount,
    serverEventCount: p.serverEventCount,
    pageviewCount: p.pageviewCount,
    firstSeenAt: p.firstSeenAt.toISOString(),
    lastSeenAt: p.lastSeenAt.toISOString(),
  };
}

/** The live profile that owns a visitorId or an email in the workspace, or null. */
export async function lookupProfile(
  prisma: PrismaClient,
  workspaceId: string,
  by: { visitorId?: string; email?: string },
) {
  const ident =
    by.email !== undefined
      ? ({ kind: "EMAIL", value: by.email } as const)
      : ({ kind: "VISITOR", value: by.visitorId! } as const);
  const hit = await repo.findProfileIdByIdentifier(prisma, workspaceId, ident.kind, ident.value);
  const row = hit ? await repo.findProfileRow(prisma, workspaceId, hit.profileId) : null;
  return row ? describeProfile(prisma, row) : null;
}

/** A profile with a page of its timeline. A merged-away id answers with its survivor (`redirectedFrom`). */
export async function getProfile(
  prisma: PrismaClient,
  workspaceId: string,
  profileId: string,
  opts: { cursor?: string; limit?: number },
) {
  const cursor = decodeCursor(opts.cursor);
  let row = await repo.findProfileRow(prisma, workspaceId, profileId);
  if (row?.mergedIntoId) row = await repo.findProfileRow(prisma, workspaceId, row.mergedIntoId);
  if (!row)
    throw new DomainError("NOT_FOUND", "No such profile in this workspace", [
      { path: ["profileId"], code: "not_found", message: "no such profile in this workspace" },
    ]);
  const live = row;
  const [profile, timeline] = await Promise.all([
    describeProfile(prisma, live),
    page((take) => repo.findTimelinePage(prisma, live.id, cursor, take), opts.limit ?? DEFAULT_PAGE_SIZE),
  ]);
  const sources = await repo.findEventSources(
    prisma,
    workspaceId,
    timeline.items.flatMap((t) => (t.trackingEventId ? [t.trackingEventId] : [])),
  );
  return {
    profile,
    redirectedFrom: live.id === profileId ? null : profileId,
    timeline: {
      items: timeline.items.map((t) => ({
        ...t,
        source: (t.trackingEventId && sources.get(t.trackingEventId)) || null,
        occurredAt: t.occurredAt.toISOString(),
        detail: t.detail ?? null,
      })),
      nextCursor: timeline.nextCursor,
    },
  };
}

/** Recent events of a site (newest first), each with its channel and the rule that decided it. */
export async function listSiteEvents(
  prisma: PrismaClient,
  workspaceId: string,
  siteId: string,
  opts: { cursor?: string; limit?: number },
) {
  const cursor = decodeCursor(opts.cursor);
  await requireSiteInWorkspace(prisma, workspaceId, siteId);
  const { items, nextCursor } = await page(
    (take) => repo.findSiteEventsPage(prisma, workspaceId, siteId, cursor, take),
    opts.limit ?? DEFAULT_PAGE_SIZE,
  );
  // The log is immutable and keeps the profile id of the time; readers want where that person lives now.
  const live = await repo.findLiveProfileIds(prisma, [...new Set(items.map((e) => e.profileId))]);
  return {
    items: items.map((e) => ({
      id: e.id,
      source: e.source,
      type: e.type,
      visitorId: e.visitorId,
      email: e.email,
      userId: e.userId,
      profileId: live.get(e.profileId) ?? e.profileId,
      path: e.path,
      referrer: e.referrer,
      utm: {
        source: e.utmSource,
        medium: e.utmMedium,
        campaign: e.utmCampaign,
        term: e.utmTerm,
        content: e.utmContent,
      },
      channel: e.channel,
      channelRule: e.channelRule,
      props: (e.props ?? null) as Record<string, unknown> | null,
      messageId: e.messageId,
      occurredAt: e.occurredAt.toISOString(),
      receivedAt: e.receivedAt.toISOString(),
    })),
    nextCursor,
  };
}
