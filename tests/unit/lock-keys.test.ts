import { describe, expect, it } from "vitest";
import { advisoryLockKey } from "../../server/tracking/ingest/lock-keys.ts";

/**
 * Every instance must derive the same advisory-lock key from the same identifier, release after
 * release: two instances computing different keys would not wait for each other (the unique
 * constraints would still refuse the loser, at the cost of a retry). The values are pinned.
 */
describe("advisoryLockKey", () => {
  it("is cyrb53 with seed 0: its published values", () => {
    expect(advisoryLockKey("a")).toBe(7929297801672961);
    expect(advisoryLockKey("b")).toBe(8684336938537663);
    expect(advisoryLockKey("revenge")).toBe(4051478007546757);
    expect(advisoryLockKey("revenue")).toBe(8309097637345594);
  });

  it("gives a non-negative safe integer (a PostgreSQL bigint) with no collision over 200,000 identifiers", () => {
    const keys = new Set<number>();
    for (let i = 0; i < 200_000; i++) {
      const key = advisoryLockKey(`ws_01m8rke1faxkrza6tkjr95xr3d|VISITOR|v_${i.toString(36)}`);
      expect(Number.isSafeInteger(key) && key >= 0).toBe(true);
      keys.add(key);
    }
    expect(keys.size).toBe(200_000);
  });

  it("tells apart identifiers that differ in one UTF-16 unit, including beyond ASCII", () => {
    const texts = ["ws|EMAIL|a@x.test", "ws|EMAIL|b@x.test", "ws|EMAIL|ä@x.test", "ws|EMAIL|𝄞@x.test", "ws|EMAIL|"];
    expect(new Set(texts.map(advisoryLockKey)).size).toBe(texts.length);
  });
});
