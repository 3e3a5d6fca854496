import { describe, expect, it } from "vitest";
import { FUNNEL_STAGES, maxStage, stageForEvent, type TFunnelStage } from "../../server/tracking/stages.ts";

describe("stage rules", () => {
  it.each([
    ["signup", "SERVER", "CONSIDERATION"],
    ["identify", "SERVER", "CONSIDERATION"],
    ["trial_signup", "SERVER", "TRIAL"],
    ["trial_start", "SERVER", "TRIAL"],
    ["pageview", "CLIENT", "CONSIDERATION"],
    ["pageview", "SERVER", "CONSIDERATION"],
    ["signup", "CLIENT", "CONSIDERATION"],
    ["invited_teammate", "SERVER", "AWARENESS"],
    ["Signup", "SERVER", "AWARENESS"],
  ] as const)("%s from %s implies %s", (type, source, stage) => {
    expect(stageForEvent(type, source)).toBe(stage);
  });

  it("maxStage never goes backwards, in every pair", () => {
    for (const a of FUNNEL_STAGES) {
      for (const b of FUNNEL_STAGES) {
        const m: TFunnelStage = maxStage(a, b);
        expect(FUNNEL_STAGES.indexOf(m)).toBe(Math.max(FUNNEL_STAGES.indexOf(a), FUNNEL_STAGES.indexOf(b)));
      }
    }
  });
});
