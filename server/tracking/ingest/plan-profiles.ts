import type { TIdentifierKind } from "../../db/enums.ts";

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

function identifierOfKey(key: string): TIdentifier {
  const sep = key.indexOf(":");
  return { kind: key.slice(0, sep) as TIdentifierKind, value: key.slice(sep + 1) };
}

/**
 * Greedy by age: a profile joins unless it carries an email other than the one chosen so far
 * (a shared device is not one person). `email` is the one the joined profiles end up with.
 */
function splitByEmail(candidates: TKnownProfile[], eventEmail: string | null) {
  let email = eventEmail;
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
  return { accepted, refused, email };
}

type TPlanInput = {
  events: TPlanEvent[];
  /** identifierKey → owning live profile id, for the batch's identifiers already stored. */
  owners: ReadonlyMap<string, string>;
  profiles: ReadonlyMap<string, TKnownProfile>;
  newProfileId: () => string;
};

export function planProfiles(input: TPlanInput): TProfilePlan {
  const planner = new ProfilePlanner(input);
  input.events.forEach((event, index) => planner.place(event, index));
  return planner.plan();
}

const byAge = (a: TKnownProfile, b: TKnownProfile) =>
  a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The plan's working state, event after event; `plan()` reads it out with every id resolved. */
class ProfilePlanner {
  private readonly owners: Map<string, string>;
  private readonly profiles: Map<string, TKnownProfile>;
  private readonly mergedInto = new Map<string, string>();
  private readonly created = new Set<string>();
  private readonly mergeLog: TMerge[] = [];
  private readonly refusals = new Map<number, string[]>();
  private readonly eventProfiles: string[] = [];
  private sequence = 0;

  constructor(private readonly input: TPlanInput) {
    this.owners = new Map(input.owners);
    this.profiles = new Map([...input.profiles].map(([id, p]) => [id, { ...p }]));
  }

  /** The live profile `id` ended up in, following merges made earlier in the batch. */
  private resolve(id: string): string {
    let cur = id;
    for (let next = this.mergedInto.get(cur); next !== undefined; next = this.mergedInto.get(cur)) cur = next;
    return cur;
  }

  private ownerOf(identifier: TIdentifier): string | undefined {
    const owner = this.owners.get(identifierKey(identifier));
    return owner === undefined ? undefined : this.resolve(owner);
  }

  /** The live profiles owning one of the event's identifiers, oldest first. */
  private candidatesOf(event: TPlanEvent): TKnownProfile[] {
    const ownerIds = new Set(event.identifiers.map((i) => this.ownerOf(i)).filter((p) => p !== undefined));
    return [...ownerIds].flatMap((id) => this.profiles.get(id) ?? []).sort(byAge);
  }

  /** A profile created by this batch; younger than every stored one, in creation order. */
  private createProfile(): TKnownProfile {
    const profile = {
      id: this.input.newProfileId(),
      createdAt: Number.MAX_SAFE_INTEGER - 1_000_000 + this.sequence++,
      email: null,
    };
    this.profiles.set(profile.id, profile);
    this.created.add(profile.id);
    return profile;
  }

  /** Merges `loser` into `survivor`; a merge of stored profiles is logged with the identifier that caused it. */
  private merge(loser: TKnownProfile, survivor: TKnownProfile, event: TPlanEvent, eventIndex: number): void {
    const cause = this.created.has(loser.id) ? undefined : event.identifiers.find((i) => this.ownerOf(i) === loser.id);
    if (cause) this.mergeLog.push({ loserId: loser.id, survivorId: survivor.id, cause, eventIndex });
    this.mergedInto.set(loser.id, survivor.id);
    for (const [key, owner] of this.owners) if (this.resolve(owner) === survivor.id) this.owners.set(key, survivor.id);
  }

  place(event: TPlanEvent, index: number): void {
    const { accepted, refused, email } = splitByEmail(this.candidatesOf(event), event.email);
    const survivor = accepted[0] ?? this.createProfile();
    for (const loser of accepted.slice(1)) this.merge(loser, survivor, event, index);
    survivor.email = email ?? survivor.email;
    for (const identifier of event.identifiers) {
      if (!this.owners.has(identifierKey(identifier))) this.owners.set(identifierKey(identifier), survivor.id);
    }
    if (refused.length) this.refusals.set(index, refused);
    this.eventProfiles.push(survivor.id);
  }

  plan(): TProfilePlan {
    const resolve = (id: string) => this.resolve(id);
    return {
      eventProfiles: this.eventProfiles.map(resolve),
      newProfileIds: [...this.created].filter((id) => resolve(id) === id),
      newIdentifiers: [...this.owners]
        .filter(([key]) => !this.input.owners.has(key))
        .map(([key, owner]) => ({ ...identifierOfKey(key), profileId: resolve(owner) })),
      merges: this.mergeLog.map((m) => ({ ...m, survivorId: resolve(m.survivorId) })),
      refusals: new Map([...this.refusals].map(([i, ids]) => [i, [...new Set(ids.map(resolve))]])),
    };
  }
}
