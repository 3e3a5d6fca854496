import { describe, expect, it } from "vitest";
import { newId } from "../../server/db/ids.ts";

const body = (id: string) => id.slice(id.indexOf("_") + 1);

describe("newId", () => {
  it("is strictly increasing within one millisecond, across prefixes, and when the clock steps back", () => {
    const at = Date.UTC(2026, 11, 8, 12, 0, 0);
    const ids = [newId("evt", at), newId("pev", at), newId("evt", at), newId("prf", at - 5), newId("evt", at)];
    const bodies = ids.map(body);
    expect([...bodies].sort()).toEqual(bodies);
    expect(new Set(bodies).size).toBe(bodies.length);
    for (const id of ids) expect(id).toMatch(/^[a-z]+_[0-9a-hjkmnp-tv-z]{26}$/);
  });

  it("draws new randomness for a new millisecond (ids of two times are not one counter)", () => {
    const a = body(newId("evt", Date.UTC(2030, 0, 1)));
    const b = body(newId("evt", Date.UTC(2030, 0, 1) + 1));
    expect(a.slice(0, 10) < b.slice(0, 10)).toBe(true);
    expect(a.slice(10)).not.toBe(b.slice(10));
  });

  it("keeps order over 10,000 ids made as fast as possible", () => {
    const ids = Array.from({ length: 10_000 }, () => body(newId("evt")));
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
  });
});
