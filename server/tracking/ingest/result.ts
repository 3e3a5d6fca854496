import type { TChannel } from "../channel-rules.ts";
import type { TRecordedEvent, TRecordResult } from "../recorded-event.schema.ts";
import type { TFunnelStage } from "../stages.ts";
import type { TPrepared } from "./prepare.ts";
import type { TDeduped, TResolved } from "./resolve.ts";

/** The response: per event in request order, recorded or the duplicate's original (on its live profile). */
export function buildResult(
  prepared: TPrepared[],
  { fresh, duplicates }: TDeduped,
  { plan, profileOf, merges }: TResolved,
  stages: Map<string, TFunnelStage>,
): TRecordResult {
  const freshIndex = new Map(fresh.map((p, i) => [p.index, i]));
  const mergedInto = new Map(merges.map((m) => [m.loserId, m.survivorId]));
  const events = prepared.map((p): TRecordedEvent => {
    const original = duplicates.get(p.index);
    if (original) {
      // The original's profile may have been merged by this very batch.
      const profileId = mergedInto.get(original.liveProfileId) ?? original.liveProfileId;
      const stage = stages.get(profileId) ?? original.stage;
      const channel = original.channel as TChannel;
      return { index: p.index, eventId: original.id, profileId, status: "duplicate", channel, stage };
    }
    const i = freshIndex.get(p.index) ?? -1;
    const profileId = profileOf(i);
    const merged = merges.filter((m) => m.eventIndex === i).map((m) => m.loserId);
    const refused = plan.refusals.get(i);
    return {
      index: p.index,
      eventId: p.id,
      profileId,
      status: "recorded",
      channel: p.channel,
      stage: stages.get(profileId) ?? p.stage,
      ...(merged.length ? { merged } : {}),
      ...(refused ? { mergeRefused: { profileIds: refused, reason: "different_email" as const } } : {}),
      ...(p.stageCapped ? { stageCapped: p.stageCapped } : {}),
    };
  });
  return { accepted: fresh.length, duplicates: duplicates.size, events };
}
