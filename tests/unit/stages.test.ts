import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  describeStageRules,
  FUNNEL_STAGES,
  maxStage,
  STAGE_RULES,
  stageForEvent,
  type TFunnelStage,
} from "../../server/tracking/stages.ts";

describe("stage rules", () => {
  it.each([
    ["signup", "CONSIDERATION"],
    ["identify", "CONSIDERATION"],
    ["pageview", "CONSIDERATION"],
    ["trial_signup", "TRIAL"],
    ["trial_start", "TRIAL"],
    ["subscription_trialing", "TRIAL"],
    ["subscription_active", "CUSTOMER"],
    ["subscription_past_due", "CUSTOMER"],
    ["subscription_canceled", "AWARENESS"],
    ["invited_teammate", "AWARENESS"],
    ["Signup", "AWARENESS"],
  ] as const)("%s implies %s, from either source", (type, stage) => {
    expect(stageForEvent(type)).toBe(stage);
  });

  it("maxStage never goes backwards, in every pair", () => {
    for (const a of FUNNEL_STAGES) {
      for (const b of FUNNEL_STAGES) {
        const m: TFunnelStage = maxStage(a, b);
        expect(FUNNEL_STAGES.indexOf(m)).toBe(Math.max(FUNNEL_STAGES.indexOf(a), FUNNEL_STAGES.indexOf(b)));
      }
    }
  });

  it("are described in words from the table itself", () => {
    expect(describeStageRules()).toBe(
      "`signup`, `identify` and `pageview` advance the profile to CONSIDERATION; " +
        "`trial_signup`, `trial_start` and `subscription_trialing` advance the profile to TRIAL; " +
        "`subscription_active` and `subscription_past_due` advance the profile to CUSTOMER; " +
        "any other type leaves the stage as it is (a new profile starts at AWARENESS). Stages never move backwards.",
    );
    for (const rule of STAGE_RULES) expect(describeStageRules()).toContain(`\`${rule.type}\``);
  });

  it("are the table of docs/stages.md", () => {
    const doc = readFileSync(new URL("../../docs/stages.md", import.meta.url), "utf8");
    const documented = [...doc.matchAll(/^\| (`\w+`(?:, `\w+`)*) +\| `([A-Z]+)` +\|$/gm)].flatMap(([, types, stage]) =>
      types!.split(", ").map((t) => ({ type: t.slice(1, -1), stage })),
    );
    expect(documented).toEqual(STAGE_RULES);
  });
});
