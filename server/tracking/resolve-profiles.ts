import type { TIdentifierKind } from "../db/enums.ts";

/**
 * Profile resolution as a pure plan: which profile each event lands on, which profiles are
 * created, merged or kept apart, and which identifiers are new. The repository then carries the
 * plan out with a handful of set-based statements. Kept free of I/O so its invariants can be
 * tested on random batches.
 */
export type TIdentifier = { kind: TIdentifierKind; value: string };

/** A live profile that owns one of the batch's identifiers. */
export type TKnownProfile = { id: string; createdAt: number; email: string | null };

export type TPlanEvent = { identifiers: TIdentifier[]; email: string | null };

export type TMerge = { loserId: string; survivorId: string; cause: TIdentifier; eventIndex: number };

export type TProfilePlan = {
  /** The live profile each event lands on, by event index. */
  eventProfiles: string[];
  /** Profiles to create (with the batch's first identifiers). */
  newProfileIds: string[];
  /** Identifiers not yet owned by anyone, with their final owner. */
  newIdentifiers: (TIdentifier & { profileId: string })[];
  /** Existing profiles merged into an existing survivor (already resolved through chains). */
  merges: TMerge[];
  /** Per event: existing profiles kept apart because they carry a different email. */
  refusals: Map<number, string[]>;
};

export const identifierKey = (i: TIdentifier) => `${i.kind}:${i.value}`;

export function planProfiles(input: {
  events: TPlanEvent[];
  /** identifierKey → owning live profile id, for the batch's identifiers already stored. */
  owners: ReadonlyMap<string, string>;
  profiles: ReadonlyMap<string, TKnownProfile>;
  newProfileId: () => string;
}): TProfilePlan {
  const owners = new Map(input.owners);
  const profiles = new Map([...input.profiles].map(([id, p]) => [id, { ...p }]));
  const mergedInto = new Map<string, string>();
  const created = new Set<string>();
  const mergeLog: TMerge[] = [];
  const refusals = new Map<number, string[]>();
  const eventProfiles: string[] = [];
  let sequence = 0;

  const resolve = (id: string): string => {
    let cur = id;
    for (let next = mergedInto.get(cur); next !== undefined; next = mergedInto.get(cur)) cur = next;
    return cur;
  };
  const byAge = (a: TKnownProfile, b: TKnownProfile) =>
    a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

  input.events.forEach((event, index) => {
    const ownerIds = [
      ...new Set(
        event.identifiers
          .map((i) => owners.get(identifierKey(i)))
          .filter((p): p is string => p !== undefined)
          .map(resolve),
      ),
    ];
    const candidates = ownerIds.map((id) => profiles.get(id)!).sort(byAge);

    // Greedy by age: a profile joins unless it carries an email other than the one chosen so far
    // (a shared device is not one person).
    let email = event.email;
    const accepted: TKnownProfile[] = [];
    const refused: string[] = [];
    for (const p of candidates) {
      if (p.email === null || email === null || p.email === email) {
        accepted.push(p);
        email ??= p.email;
      } else {
        refused.push(p.id);
      }
    }

    let survivor = accepted[0];
    if (!survivor) {
      survivor = { id: input.newProfileId(), createdAt: Number.MAX_SAFE_INTEGER - 1_000_000 + sequence++, email: null };
      profiles.set(survivor.id, survivor);
      created.add(survivor.id);
    }
    for (const loser of accepted.slice(1)) {
      if (!created.has(loser.id)) {
        const cause = event.identifiers.find((i) => {
          const owner = owners.get(identifierKey(i));
          return owner !== undefined && resolve(owner) === loser.id;
        })!;
        mergeLog.push({ loserId: loser.id, survivorId: survivor.id, cause, eventIndex: index });
      }
      mergedInto.set(loser.id, survivor.id);
      for (const [key, owner] of owners) if (resolve(owner) === survivor.id) owners.set(key, survivor.id);
    }
    survivor.email = email ?? survivor.email;
    for (const identifier of event.identifiers) {
      if (!owners.has(identifierKey(identifier))) owners.set(identifierKey(identifier), survivor.id);
    }
    if (refused.length) refusals.set(index, refused);
    eventProfiles.push(survivor.id);
  });

  return {
    eventProfiles: eventProfiles.map(resolve),
    newProfileIds: [...created].filter((id) => resolve(id) === id),
    newIdentifiers: [...owners]
      .filter(([key]) => !input.owners.has(key))
      .map(([key, owner]) => {
        const sep = key.indexOf(":");
        return { kind: key.slice(0, sep) as TIdentifierKind, value: key.slice(sep + 1), profileId: resolve(owner) };
      }),
    merges: mergeLog.map((m) => ({ ...m, survivorId: resolve(m.survivorId) })),
    refusals: new Map([...refusals].map(([i, ids]) => [i, [...new Set(ids.map(resolve))]])),
  };
}
