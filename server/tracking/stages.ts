import { FUNNEL_STAGES, type TFunnelStage } from "../db/enums.ts";

export { FUNNEL_STAGES, type TFunnelStage };

/**
 * The funnel stage rules, in one table: which event type advances a profile to which stage, from
 * either source (server or client). Stages only move forward. The `type` field's description in
 * the API and docs/stages.md are generated from / checked against this table.
 */
export const STAGE_RULES: readonly { type: string; stage: TFunnelStage }[] = [
  { type: "signup", stage: "CONSIDERATION" },
  { type: "identify", stage: "CONSIDERATION" },
  { type: "pageview", stage: "CONSIDERATION" },
  { type: "trial_signup", stage: "TRIAL" },
  { type: "trial_start", stage: "TRIAL" },
  { type: "subscription_trialing", stage: "TRIAL" },
  { type: "subscription_active", stage: "CUSTOMER" },
  { type: "subscription_past_due", stage: "CUSTOMER" },
];

/** The stage a profile starts at, and the stage an event of any other type implies. */
export const FIRST_STAGE: TFunnelStage = FUNNEL_STAGES[0];

/** The stage an event implies: the one its rule names, else the first stage (every rule applies to both sources). */
export function stageForEvent(type: string): TFunnelStage {
  return STAGE_RULES.find((r) => r.type === type)?.stage ?? FIRST_STAGE;
}

export const stageRank = (s: TFunnelStage) => FUNNEL_STAGES.indexOf(s);

/** The later of two stages: what "advance, never go back" means. */
export function maxStage(a: TFunnelStage, b: TFunnelStage): TFunnelStage {
  return stageRank(a) >= stageRank(b) ? a : b;
}

const code = (s: string) => `\`${s}\``;

/** "`a`, `b` and `c`" */
function listOf(items: readonly string[]): string {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** The rules in words, stage by stage, for API descriptions: generated, so they cannot drift. */
export function describeStageRules(): string {
  const byStage = FUNNEL_STAGES.map((stage) => ({
    stage,
    types: STAGE_RULES.filter((r) => r.stage === stage).map((r) => code(r.type)),
  })).filter((s) => s.types.length > 0);
  const clauses = byStage.map(
    ({ stage, types }) => `${listOf(types)} ${types.length > 1 ? "advance" : "advances"} the profile to ${stage}`,
  );
  return (
    `${clauses.join("; ")}; any other type leaves the stage as it is (a new profile starts at ${FIRST_STAGE}). ` +
    "Stages never move backwards."
  );
}
