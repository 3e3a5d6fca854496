import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TDatabase } from "../../server/db/database.ts";
import { ingestEvents } from "../../server/tracking/ingest/ingest-events.ts";
import { getProfile } from "../../server/tracking/read-profiles.ts";
import { ZRecordServerEventsBody } from "../../server/tracking/server-event.schema.ts";
import { seedWorkspace } from "../support/fixtures.ts";
import { createTestDatabase } from "../support/test-database.ts";

/**
 * Calls queued in a page before the snippet loads are replayed in the same millisecond: one batch
 * whose events' times tie. The timeline (newest first) must show them in the reverse of the order
 * they were sent, every time, not in an order decided by random ids.
 */
let db: TDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

describe("the timeline keeps one batch's order when its events' times tie", () => {
  it("ten rounds of eight events at one instant: always listed newest-sent first", async () => {
    const ws = await seedWorkspace(db.prisma);
    const at = "2026-12-01T10:00:00.000Z";
    for (let round = 0; round < 10; round++) {
      const types = Array.from({ length: 8 }, (_, i) => `queued_${round}_${i}`);
      const body = ZRecordServerEventsBody.parse({
        siteId: ws.site.id,
        events: types.map((type) => ({ type, visitorId: `v_tie_${round}`, timestamp: at })),
      });
      const result = await ingestEvents(db, {
        workspaceId: ws.workspace.id,
        actor: { kind: "session", userId: ws.owner.id },
        body,
      });
      const profileId = result.events[0]!.profileId;
      const { timeline } = await getProfile(db.prisma, ws.workspace.id, profileId, { limit: 50 });
      expect(timeline.items.map((e) => e.type)).toEqual([...types].reverse());
    }
  });
});
