import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  identifierKey,
  planProfiles,
  type TIdentifier,
  type TKnownProfile,
  type TPlanEvent,
  type TProfilePlan,
} from "../../server/tracking/ingest/plan-profiles.ts";

const visitor = (value: string): TIdentifier => ({ kind: "VISITOR", value });
const email = (value: string): TIdentifier => ({ kind: "EMAIL", value });
const userId = (value: string): TIdentifier => ({ kind: "USER_ID", value });

/** An event as record-server-events builds it: identifiers in VISITOR, EMAIL, USER_ID order. */
function event(e: { visitorId?: string; email?: string; userId?: string }): TPlanEvent {
  const identifiers: TIdentifier[] = [];
  if (e.visitorId !== undefined) identifiers.push(visitor(e.visitorId));
  if (e.email !== undefined) identifiers.push(email(e.email));
  if (e.userId !== undefined) identifiers.push(userId(e.userId));
  return { identifiers, email: e.email ?? null };
}

type TStored = { profiles: TKnownProfile[]; owned: [TIdentifier, string][] };

function plan(events: TPlanEvent[], stored: TStored = { profiles: [], owned: [] }) {
  let next = 0;
  return planProfiles({
    events,
    owners: new Map(stored.owned.map(([i, id]) => [identifierKey(i), id])),
    profiles: new Map(stored.profiles.map((p) => [p.id, p])),
    newProfileId: () => `new${++next}`,
  });
}

describe("planProfiles, by example", () => {
  it("creates a profile for unknown identifiers and claims them all for it", () => {
    const result = plan([event({ visitorId: "v1", email: "a@x.test" })]);
    expect(result.newProfileIds).toEqual(["new1"]);
    expect(result.eventProfiles).toEqual(["new1"]);
    expect(result.newIdentifiers).toEqual(
      expect.arrayContaining([
        { kind: "VISITOR", value: "v1", profileId: "new1" },
        { kind: "EMAIL", value: "a@x.test", profileId: "new1" },
      ]),
    );
    expect(result.newIdentifiers).toHaveLength(2);
    expect(result.merges).toEqual([]);
    expect(result.refusals.size).toBe(0);
  });

  it("puts the same new visitor seen twice in a batch on one profile", () => {
    const result = plan([event({ visitorId: "v1" }), event({ visitorId: "v1" })]);
    expect(result.newProfileIds).toEqual(["new1"]);
    expect(result.eventProfiles).toEqual(["new1", "new1"]);
    expect(result.newIdentifiers).toEqual([{ kind: "VISITOR", value: "v1", profileId: "new1" }]);
  });

  it("lands on the existing owner and claims the event's new identifiers for it", () => {
    const result = plan([event({ visitorId: "v1", email: "a@x.test" })], {
      profiles: [{ id: "p1", createdAt: 1, email: null }],
      owned: [[visitor("v1"), "p1"]],
    });
    expect(result.newProfileIds).toEqual([]);
    expect(result.eventProfiles).toEqual(["p1"]);
    expect(result.newIdentifiers).toEqual([{ kind: "EMAIL", value: "a@x.test", profileId: "p1" }]);
  });

  it("merges two existing profiles linked by visitor + email into the oldest, naming the loser's identifier", () => {
    const stored: TStored = {
      profiles: [
        { id: "pOld", createdAt: 100, email: null },
        { id: "pYoung", createdAt: 200, email: "a@x.test" },
      ],
      owned: [
        [visitor("v1"), "pOld"],
        [email("a@x.test"), "pYoung"],
      ],
    };
    const result = plan([event({ visitorId: "v1", email: "a@x.test" })], stored);
    expect(result.merges).toEqual([{ loserId: "pYoung", survivorId: "pOld", cause: email("a@x.test"), eventIndex: 0 }]);
    expect(result.eventProfiles).toEqual(["pOld"]);
    expect(result.newProfileIds).toEqual([]);
    expect(result.newIdentifiers).toEqual([]);

    // The other way round in age: the visitor's profile is the loser, and the visitor is the cause.
    const reversed = plan([event({ visitorId: "v1", email: "a@x.test" })], {
      ...stored,
      profiles: [
        { id: "pOld", createdAt: 300, email: null },
        { id: "pYoung", createdAt: 200, email: "a@x.test" },
      ],
    });
    expect(reversed.merges).toEqual([{ loserId: "pOld", survivorId: "pYoung", cause: visitor("v1"), eventIndex: 0 }]);
    expect(reversed.eventProfiles).toEqual(["pYoung"]);
  });

  it("breaks an age tie by id, so every instance picks the same survivor", () => {
    const result = plan([event({ visitorId: "v1", email: "a@x.test" })], {
      profiles: [
        { id: "pB", createdAt: 100, email: null },
        { id: "pA", createdAt: 100, email: "a@x.test" },
      ],
      owned: [
        [visitor("v1"), "pB"],
        [email("a@x.test"), "pA"],
      ],
    });
    expect(result.merges).toEqual([{ loserId: "pB", survivorId: "pA", cause: visitor("v1"), eventIndex: 0 }]);
  });

  it("resolves a chain of merges within one batch to the final survivor", () => {
    const result = plan(
      [
        event({ visitorId: "v3", email: "b@x.test" }),
        event({ visitorId: "v1", email: "b@x.test" }),
        event({ visitorId: "v3" }),
      ],
      {
        profiles: [
          { id: "pA", createdAt: 1, email: null },
          { id: "pB", createdAt: 2, email: "b@x.test" },
          { id: "pC", createdAt: 3, email: null },
        ],
        owned: [
          [visitor("v1"), "pA"],
          [email("b@x.test"), "pB"],
          [visitor("v3"), "pC"],
        ],
      },
    );
    // Event 0 folds pC into pB; event 1 folds pB into pA: both losers end in pA.
    expect(result.merges).toEqual([
      { loserId: "pC", survivorId: "pA", cause: visitor("v3"), eventIndex: 0 },
      { loserId: "pB", survivorId: "pA", cause: email("b@x.test"), eventIndex: 1 },
    ]);
    expect(result.eventProfiles).toEqual(["pA", "pA", "pA"]);
    expect(result.newIdentifiers).toEqual([]);
  });

  it("folds a profile created earlier in the batch into an existing one without a merge record", () => {
    const result = plan([event({ visitorId: "v9" }), event({ visitorId: "v9", email: "a@x.test" })], {
      profiles: [{ id: "p1", createdAt: 1, email: "a@x.test" }],
      owned: [[email("a@x.test"), "p1"]],
    });
    expect(result.newProfileIds).toEqual([]);
    expect(result.merges).toEqual([]);
    expect(result.eventProfiles).toEqual(["p1", "p1"]);
    expect(result.newIdentifiers).toEqual([{ kind: "VISITOR", value: "v9", profileId: "p1" }]);
  });

  it("never merges two profiles with different emails: the event goes to the email's owner, refusal reported", () => {
    const result = plan([event({ visitorId: "v1", email: "b@x.test" })], {
      profiles: [
        { id: "pA", createdAt: 1, email: "a@x.test" },
        { id: "pB", createdAt: 2, email: "b@x.test" },
      ],
      owned: [
        [visitor("v1"), "pA"],
        [email("a@x.test"), "pA"],
        [email("b@x.test"), "pB"],
      ],
    });
    expect(result.merges).toEqual([]);
    expect(result.eventProfiles).toEqual(["pB"]);
    expect(result.refusals).toEqual(new Map([[0, ["pA"]]]));
    expect(result.newIdentifiers).toEqual([]);
  });

  it("gives an unowned second email on a known visitor a NEW profile, reporting the refusal", () => {
    const result = plan([event({ visitorId: "v1", email: "b@x.test" })], {
      profiles: [{ id: "pA", createdAt: 1, email: "a@x.test" }],
      owned: [
        [visitor("v1"), "pA"],
        [email("a@x.test"), "pA"],
      ],
    });
    expect(result.newProfileIds).toEqual(["new1"]);
    expect(result.eventProfiles).toEqual(["new1"]);
    expect(result.refusals).toEqual(new Map([[0, ["pA"]]]));
    // The visitor stays with its owner; only the new email goes to the new profile.
    expect(result.newIdentifiers).toEqual([{ kind: "EMAIL", value: "b@x.test", profileId: "new1" }]);
    expect(result.merges).toEqual([]);
  });

  it("without an email on the event, joins the oldest emailed profile and refuses the other email", () => {
    const result = plan([event({ visitorId: "v1", userId: "u1" })], {
      profiles: [
        { id: "pA", createdAt: 1, email: "a@x.test" },
        { id: "pB", createdAt: 2, email: "b@x.test" },
      ],
      owned: [
        [visitor("v1"), "pB"],
        [userId("u1"), "pA"],
      ],
    });
    expect(result.eventProfiles).toEqual(["pA"]);
    expect(result.refusals).toEqual(new Map([[0, ["pB"]]]));
    expect(result.merges).toEqual([]);
  });

  it("a profile that took an email earlier in the batch refuses a later, different one", () => {
    const result = plan([event({ visitorId: "v1", email: "a@x.test" }), event({ visitorId: "v1", email: "b@x.test" })]);
    expect(result.newProfileIds).toEqual(["new1", "new2"]);
    expect(result.eventProfiles).toEqual(["new1", "new2"]);
    expect(result.refusals).toEqual(new Map([[1, ["new1"]]]));
    expect(result.newIdentifiers).toEqual(
      expect.arrayContaining([
        { kind: "VISITOR", value: "v1", profileId: "new1" },
        { kind: "EMAIL", value: "a@x.test", profileId: "new1" },
        { kind: "EMAIL", value: "b@x.test", profileId: "new2" },
      ]),
    );
  });
});

// Properties over random batches. A small identifier alphabet makes collisions (same person,
// merges, conflicting emails) the common case rather than the exception.

const VISITORS = ["v0", "v1", "v2", "v3", "v4"];
const EMAILS = ["a@x.test", "b@x.test", "c@x.test"];
const USER_IDS = ["u0", "u1"];
const ALPHABET: TIdentifier[] = [...VISITORS.map(visitor), ...EMAILS.map(email), ...USER_IDS.map(userId)];

type TScenario = { profiles: TKnownProfile[]; owners: Map<string, string>; events: TPlanEvent[] };

/**
 * A stored state that the database can actually hold (each identifier has one live owner, a
 * profile has at most one email, possibly one outside the batch's alphabet), and a batch of events.
 */
const arbScenario: fc.Arbitrary<TScenario> = fc
  .record({
    ages: fc.uniqueArray(fc.integer({ min: 0, max: 1_000 }), { maxLength: 5 }),
    ownerPicks: fc.array(fc.nat(), { minLength: ALPHABET.length, maxLength: ALPHABET.length }),
    owned: fc.array(fc.boolean(), { minLength: ALPHABET.length, maxLength: ALPHABET.length }),
    outsideEmail: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    events: fc.array(
      fc
        .record({
          visitorId: fc.option(fc.constantFrom(...VISITORS), { nil: undefined }),
          email: fc.option(fc.constantFrom(...EMAILS), { nil: undefined }),
          userId: fc.option(fc.constantFrom(...USER_IDS), { nil: undefined }),
        })
        .filter((e) => e.visitorId !== undefined || e.email !== undefined || e.userId !== undefined),
      { minLength: 1, maxLength: 12 },
    ),
  })
  .map(({ ages, ownerPicks, owned, outsideEmail, events }) => {
    const all = ages.map((createdAt, i) => ({ id: `p${i}`, createdAt, email: null as string | null }));
    const owners = new Map<string, string>();
    if (all.length > 0) {
      ALPHABET.forEach((identifier, i) => {
        if (!owned[i]) return;
        const owner = all[ownerPicks[i]! % all.length]!;
        if (identifier.kind === "EMAIL") {
          if (owner.email !== null) return; // one email per stored profile
          owner.email = identifier.value;
        }
        owners.set(identifierKey(identifier), owner.id);
      });
      all.forEach((p, i) => {
        if (p.email === null && outsideEmail[i]) p.email = `outside-${p.id}@x.test`;
      });
    }
    // Like findOwners: only the batch's identifiers, and the profiles owning them, are known.
    const batchKeys = new Set(events.flatMap((e) => event(e).identifiers.map(identifierKey)));
    for (const key of [...owners.keys()]) if (!batchKeys.has(key)) owners.delete(key);
    const known = all.filter((p) => [...owners.values()].includes(p.id));
    return { profiles: known, owners, events: events.map(event) };
  });

function run(s: TScenario): TProfilePlan {
  let next = 0;
  return planProfiles({
    events: s.events,
    owners: s.owners,
    profiles: new Map(s.profiles.map((p) => [p.id, p])),
    newProfileId: () => `new${++next}`,
  });
}

/** The state after the plan is carried out: final owner of each identifier, live profiles, emails. */
function outcome(s: TScenario, result: TProfilePlan) {
  const survivorOf = new Map(result.merges.map((m) => [m.loserId, m.survivorId]));
  const live = new Set([...s.profiles.map((p) => p.id).filter((id) => !survivorOf.has(id)), ...result.newProfileIds]);
  const finalOwner = new Map<string, string>();
  for (const [key, id] of s.owners) finalOwner.set(key, survivorOf.get(id) ?? id);
  for (const i of result.newIdentifiers) finalOwner.set(identifierKey(i), i.profileId);
  const emails = new Map<string, Set<string>>();
  const addEmail = (profileId: string, value: string) => {
    const set = emails.get(profileId) ?? new Set<string>();
    set.add(value);
    emails.set(profileId, set);
  };
  for (const p of s.profiles) if (p.email !== null) addEmail(survivorOf.get(p.id) ?? p.id, p.email);
  for (const [key, owner] of finalOwner) if (key.startsWith("EMAIL:")) addEmail(owner, key.slice("EMAIL:".length));
  return { survivorOf, live, finalOwner, emails };
}

describe("planProfiles, properties over random batches", () => {
  const params = { numRuns: 1_000 };

  it("every identifier of the batch ends with exactly one owner, and that owner is live", () => {
    fc.assert(
      fc.property(arbScenario, (s) => {
        const result = run(s);
        const { live, finalOwner } = outcome(s, result);
        const newKeys = result.newIdentifiers.map(identifierKey);
        expect(new Set(newKeys).size).toBe(newKeys.length);
        for (const key of newKeys) expect(s.owners.has(key)).toBe(false);
        for (const e of s.events) {
          for (const i of e.identifiers) {
            const owner = finalOwner.get(identifierKey(i));
            expect(owner).toBeDefined();
            expect(live.has(owner!)).toBe(true);
          }
        }
        for (const owner of finalOwner.values()) expect(live.has(owner)).toBe(true);
      }),
      params,
    );
  });

  it("no live profile ends with two different emails", () => {
    fc.assert(
      fc.property(arbScenario, (s) => {
        const { emails } = outcome(s, run(s));
        for (const [profileId, set] of emails) expect([profileId, [...set]]).toEqual([profileId, [...set].slice(0, 1)]);
      }),
      params,
    );
  });

  it("each event lands on a live profile that owns one of its identifiers, or every owner of them was refused", () => {
    fc.assert(
      fc.property(arbScenario, (s) => {
        const result = run(s);
        const { live, finalOwner, emails, survivorOf } = outcome(s, result);
        expect(result.eventProfiles).toHaveLength(s.events.length);
        s.events.forEach((e, index) => {
          const profileId = result.eventProfiles[index]!;
          expect(live.has(profileId)).toBe(true);
          const owns = e.identifiers.some((i) => finalOwner.get(identifierKey(i)) === profileId);
          if (!owns) {
            const refused = new Set(result.refusals.get(index) ?? []);
            const storedOwners = e.identifiers.flatMap((i) => {
              const id = s.owners.get(identifierKey(i));
              return id === undefined ? [] : [survivorOf.get(id) ?? id];
            });
            expect(storedOwners.length).toBeGreaterThan(0);
            for (const id of storedOwners) expect(refused.has(id)).toBe(true);
          }
          // A refusal is only ever about two different emails, each on its own live profile.
          for (const refusedId of result.refusals.get(index) ?? []) {
            expect(live.has(refusedId)).toBe(true);
            expect(refusedId).not.toBe(profileId);
            const mine = [...(emails.get(profileId) ?? [])];
            const theirs = [...(emails.get(refusedId) ?? [])];
            expect(mine).toHaveLength(1);
            expect(theirs).toHaveLength(1);
            expect(mine[0]).not.toBe(theirs[0]);
          }
          if (e.email !== null) expect(finalOwner.get(identifierKey(email(e.email)))).toBe(profileId);
        });
      }),
      params,
    );
  });

  it("merges only involve stored profiles, once each, into a live survivor older than the loser", () => {
    fc.assert(
      fc.property(arbScenario, (s) => {
        const result = run(s);
        const stored = new Map(s.profiles.map((p) => [p.id, p]));
        const { live } = outcome(s, result);
        const losers = result.merges.map((m) => m.loserId);
        expect(new Set(losers).size).toBe(losers.length);
        for (const m of result.merges) {
          const loser = stored.get(m.loserId);
          const survivor = stored.get(m.survivorId);
          expect(loser).toBeDefined();
          expect(survivor).toBeDefined();
          expect(live.has(m.survivorId)).toBe(true);
          expect(live.has(m.loserId)).toBe(false);
          expect(
            survivor!.createdAt < loser!.createdAt ||
              (survivor!.createdAt === loser!.createdAt && survivor!.id < loser!.id),
          ).toBe(true);
          expect(s.events[m.eventIndex]!.identifiers.map(identifierKey)).toContain(identifierKey(m.cause));
          expect(loser!.email === null || survivor!.email === null || loser!.email === survivor!.email).toBe(true);
        }
        for (const id of result.newProfileIds) expect(stored.has(id)).toBe(false);
      }),
      params,
    );
  });

  it("is deterministic: the same input gives the same plan", () => {
    fc.assert(
      fc.property(arbScenario, (s) => {
        expect(run(s)).toEqual(run(s));
      }),
      { numRuns: 200 },
    );
  });
});
