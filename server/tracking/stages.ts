/**
 * The funnel stage rules, in one table: which event advances a profile to which stage.
 * Stages only move forward; the order of FUNNEL_STAGES is the order of the database enum.
 */
export const FUNNEL_STAGES = ["AWARENESS", "CONSIDERATION", "TRIAL", "CUSTOMER"] as const;
export type TFunnelStage = (typeof FUNNEL_STAGES)[number];
export type TEventSource = "SERVER" | "CLIENT";

export const STAGE_RULES: readonly { type: string; sources: readonly TEventSource[]; stage: TFunnelStage }[] = [
  { type: "signup", sources: ["SERVER", "CLIENT"], stage: "CONSIDERATION" },
  { type: "identify", sources: ["SERVER", "CLIENT"], stage: "CONSIDERATION" },
  { type: "trial_signup", sources: ["SERVER", "CLIENT"], stage: "TRIAL" },
  { type: "trial_start", sources: ["SERVER", "CLIENT"], stage: "TRIAL" },
  { type: "pageview", sources: ["SERVER", "CLIENT"], stage: "CONSIDERATION" },
];

/** The stage an event implies: the one its rule names, else AWARENESS (first contact). */
export function stageForEvent(type: string, source: TEventSource): TFunnelStage {
  return STAGE_RULES.find((r) => r.type === type && r.sources.includes(source))?.stage ?? "AWARENESS";
}

export const stageRank = (s: TFunnelStage) => FUNNEL_STAGES.indexOf(s);

/** The later of two stages: what "advance, never go back" means. */
export function maxStage(a: TFunnelStage, b: TFunnelStage): TFunnelStage {
  return stageRank(a) >= stageRank(b) ? a : b;
}
