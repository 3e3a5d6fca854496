import {
  Channel,
  EventSource,
  FunnelStage,
  IdentifierKind,
  MessageScope,
  WorkspaceRole,
} from "../../generated/prisma/enums.ts";

/**
 * The database's enums as ordered tuples (for `z.enum` and ordered comparisons) and types. Their
 * values are written once, in prisma/schema.prisma; Prisma generates the objects in schema order,
 * and a test pins that order to the database's own (`pg_enum`), which `GREATEST` on stages relies on.
 */
function valuesOf<const T extends Record<string, string>>(e: T): readonly [T[keyof T], ...T[keyof T][]] {
  return Object.values(e) as [T[keyof T], ...T[keyof T][]];
}

/** Funnel stages, earliest first: a profile only moves to a later one. */
export const FUNNEL_STAGES = valuesOf(FunnelStage);
export type TFunnelStage = FunnelStage;

export const CHANNELS = valuesOf(Channel);
export type TChannel = Channel;

export const IDENTIFIER_KINDS = valuesOf(IdentifierKind);
export type TIdentifierKind = IdentifierKind;

export const WORKSPACE_ROLES = valuesOf(WorkspaceRole);
export type TWorkspaceRole = WorkspaceRole;

export const EVENT_SOURCES = valuesOf(EventSource);
export type TEventSource = EventSource;

/** The messageId namespaces: an id is unique per (site, namespace). */
export const MESSAGE_SCOPES = valuesOf(MessageScope);
export type TMessageScope = MessageScope;
