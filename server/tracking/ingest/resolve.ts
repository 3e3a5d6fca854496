import { newId } from "../../db/ids.ts";
import type { TSqlTx } from "../../db/sql.ts";
import type { TBatchWrite, TLockedState, TOwnerRow, TStoredEvent } from "./batch.types.ts";
import { findOwners } from "./ingest.repo.ts";
import { identifierKey, planProfiles, type TIdentifier, type TProfilePlan } from "./plan-profiles.ts";
import { uniqueIdentifiers, type TPrepared } from "./prepare.ts";
import { TransactionConflictError } from "./transaction-retry.ts";

/**
 * After the dedupe step: the events to record, the stored original of each duplicate (by request
 * index), the profiles locked and their owners as the lock statement read them (null: read again).
 */
export type TDeduped = {
  fresh: TPrepared[];
  duplicates: Map<number, TStoredEvent>;
  lockedProfileIds: Set<string>;
  owners: TOwnerRow[] | null;
};

/** The profile plan, with each fresh event's profile and the merges given their ids. */
export type TResolved = {
  plan: TProfilePlan;
  profileOf: (freshIndex: number) => string;
  merges: TBatchWrite["merges"];
};

/** Sets aside the events already recorded under their messageId (the lock statement found them). */
export function dedupe(prepared: TPrepared[], { lockedProfileIds, recorded, owners }: TLockedState): TDeduped {
  const byMessage = new Map(recorded.map((r) => [r.messageId, r]));
  const duplicates = new Map<number, TStoredEvent>();
  for (const p of prepared) {
    const original = p.event.messageId === undefined ? undefined : byMessage.get(p.event.messageId);
    if (original) duplicates.set(p.index, original);
  }
  return { fresh: prepared.filter((p) => !duplicates.has(p.index)), duplicates, lockedProfileIds, owners };
}

/** Which profile each fresh event lands on, which are created and which merged (see planProfiles). */
export async function resolveProfiles(tx: TSqlTx, workspaceId: string, deduped: TDeduped): Promise<TResolved> {
  const { fresh, lockedProfileIds } = deduped;
  const identifiers = uniqueIdentifiers(fresh.map((p) => p.identifiers));
  const owners = await ownersOf(tx, workspaceId, deduped, identifiers);
  // A profile merged away while we waited for its lock handed its identifiers to one we do not hold.
  if (owners.some((o) => !lockedProfileIds.has(o.profileId))) {
    throw new TransactionConflictError("an owning profile was merged while waiting for its lock");
  }
  const plan = planProfiles({
    events: fresh.map((p) => ({ identifiers: p.identifiers, email: p.event.email ?? null })),
    owners: new Map(owners.map((o) => [identifierKey(o), o.profileId])),
    profiles: new Map(
      owners.map((o) => [o.profileId, { id: o.profileId, createdAt: o.createdAt.getTime(), email: o.email }]),
    ),
    newProfileId: () => newId("prf"),
  });
  const profileOf = (i: number) => itemAt(plan.eventProfiles, i);
  const merges = plan.merges.map((m) => ({ ...m, id: newId("mrg"), trackingEventId: itemAt(fresh, m.eventIndex).id }));
  return { plan, profileOf, merges };
}

/**
 * The owners of the fresh events' identifiers: as the lock statement read them, unless a locked
 * profile changed while it waited (then read again, now that the locks are held). Owners are live
 * profiles, all locked by now: with none locked there is nobody to look up.
 */
async function ownersOf(
  tx: TSqlTx,
  workspaceId: string,
  { lockedProfileIds, owners }: TDeduped,
  identifiers: TIdentifier[],
): Promise<TOwnerRow[]> {
  if (!lockedProfileIds.size) return [];
  if (!owners) return findOwners(tx, workspaceId, identifiers);
  const wanted = new Set(identifiers.map(identifierKey));
  return owners.filter((o) => wanted.has(identifierKey(o)));
}

/** `list[i]` for an index the plan guarantees; a miss is a bug, not a request error. */
function itemAt<T>(list: readonly T[], i: number): T {
  if (i < 0 || i >= list.length) throw new Error(`index ${i} out of range (${list.length})`);
  return list[i] as T;
}
