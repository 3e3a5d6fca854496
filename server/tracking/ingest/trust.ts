import type { TMessageScope } from "../../db/enums.ts";
import { stageRank, type TFunnelStage } from "../stages.ts";
import type { TActor } from "./actor.ts";

/**
 * The stages a site may let its browser door reach. Never CUSTOMER: the door authenticates nobody
 * (anyone can send the site's Origin), and stages never move back, so a forged stage would be
 * permanent. The column's CHECK constraint allows the same three values.
 */
export const BROWSER_STAGE_CEILINGS = [
  "AWARENESS",
  "CONSIDERATION",
  "TRIAL",
] as const satisfies readonly TFunnelStage[];
export type TBrowserStageCeiling = (typeof BROWSER_STAGE_CEILINGS)[number];
export const DEFAULT_BROWSER_STAGE_CEILING: TBrowserStageCeiling = "TRIAL";

/** What one door's events may do. */
export type TDoorTrust = {
  /** How far its events may advance a stage: as far as their rule says, or at most the site's browser ceiling. */
  stages: "any" | "site-ceiling";
  /** The messageId namespace it dedupes in: an id in one namespace is never a duplicate in the other. */
  messageScope: TMessageScope;
  /** Whether its emails need a verification HMAC: set per site, or never (the door authenticates its caller). */
  emailVerification: "per-site" | "never";
};

/**
 * The trust policy, in one table: per door (actor kind), what its events may do. The session,
 * API-key and Stripe doors authenticate a workspace member, a key holder or Stripe's signature;
 * the browser door authenticates nobody. docs/stages.md renders this table (a test keeps them equal).
 */
export const TRUST_POLICY: Readonly<Record<TActor["kind"], TDoorTrust>> = {
  session: { stages: "any", messageScope: "TRUSTED", emailVerification: "never" },
  apiKey: { stages: "any", messageScope: "TRUSTED", emailVerification: "never" },
  stripe: { stages: "any", messageScope: "TRUSTED", emailVerification: "never" },
  browser: { stages: "site-ceiling", messageScope: "PUBLIC", emailVerification: "per-site" },
};

export const trustOf = (actor: TActor): TDoorTrust => TRUST_POLICY[actor.kind];

/** The latest stage the actor's events may reach on the site; null: no ceiling. */
export function stageCeilingFor(actor: TActor, site: { browserStageCeiling: TFunnelStage }): TFunnelStage | null {
  return trustOf(actor).stages === "any" ? null : site.browserStageCeiling;
}

/** Said of an event whose rule implies a stage past its door's ceiling: it moved the profile to the ceiling only. */
export type TStageCapped = { requested: TFunnelStage; ceiling: TFunnelStage };

/** The stage an event may move its profile to: the one its rule implies, lowered to the ceiling if past it. */
export function cappedStage(requested: TFunnelStage, ceiling: TFunnelStage | null): TFunnelStage {
  return ceiling !== null && stageRank(requested) > stageRank(ceiling) ? ceiling : requested;
}
