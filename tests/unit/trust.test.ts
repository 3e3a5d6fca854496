import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { TActor } from "../../server/tracking/ingest/actor.ts";
import {
  BROWSER_STAGE_CEILINGS,
  cappedStage,
  DEFAULT_BROWSER_STAGE_CEILING,
  stageCeilingFor,
  TRUST_POLICY,
  trustOf,
} from "../../server/tracking/ingest/trust.ts";
import { STAGE_RULES, stageForEvent, type TFunnelStage } from "../../server/tracking/stages.ts";

const ACTORS: Record<TActor["kind"], TActor> = {
  session: { kind: "session", userId: "usr_1" },
  apiKey: { kind: "apiKey", keyId: "key_1" },
  stripe: { kind: "stripe", eventId: "evt_1" },
  browser: { kind: "browser", siteId: "site_1" },
};

/** Every type STAGE_RULES names, then one it does not. */
const TYPES = [...STAGE_RULES.map((r) => r.type), "invited_teammate"];

/**
 * The stage each type of TYPES reaches, written out by hand: for the trusted doors, and for the
 * browser door at each settable ceiling. A new rule or door fails the test until it is added here.
 */
const TRUSTED_STAGES: TFunnelStage[] = [
  ...(["CONSIDERATION", "CONSIDERATION", "CONSIDERATION"] as const),
  ...(["TRIAL", "TRIAL", "TRIAL"] as const),
  ...(["CUSTOMER", "CUSTOMER"] as const),
  "AWARENESS",
];
const BROWSER_STAGES: Record<(typeof BROWSER_STAGE_CEILINGS)[number], TFunnelStage[]> = {
  AWARENESS: Array<TFunnelStage>(9).fill("AWARENESS"),
  CONSIDERATION: [...Array<TFunnelStage>(8).fill("CONSIDERATION"), "AWARENESS"],
  TRIAL: [
    ...(["CONSIDERATION", "CONSIDERATION", "CONSIDERATION"] as const),
    ...(["TRIAL", "TRIAL", "TRIAL", "TRIAL", "TRIAL"] as const),
    "AWARENESS",
  ],
};

const ceilings = [undefined, ...BROWSER_STAGE_CEILINGS] as const;
const cases = (Object.keys(ACTORS) as TActor["kind"][]).flatMap((kind) =>
  ceilings.flatMap((ceiling) => TYPES.map((type, i) => ({ kind, ceiling, type, i }))),
);

describe("the trust policy", () => {
  it("has a row for every door, and only the browser's is public, capped and per-site verified", () => {
    expect(Object.keys(TRUST_POLICY).sort()).toEqual(Object.keys(ACTORS).sort());
    expect(TRUST_POLICY.browser).toEqual({
      stages: "site-ceiling",
      messageScope: "PUBLIC",
      emailVerification: "per-site",
    });
    for (const kind of ["session", "apiKey", "stripe"] as const) {
      expect(trustOf(ACTORS[kind])).toEqual({ stages: "any", messageScope: "TRUSTED", emailVerification: "never" });
    }
  });

  it("lets the browser door reach TRIAL at most by default, and never CUSTOMER", () => {
    expect(DEFAULT_BROWSER_STAGE_CEILING).toBe("TRIAL");
    expect(BROWSER_STAGE_CEILINGS).toEqual(["AWARENESS", "CONSIDERATION", "TRIAL"]);
    expect(TYPES).toHaveLength(TRUSTED_STAGES.length);
  });

  it.each(cases)("$kind, ceiling $ceiling: $type", ({ kind, ceiling, type, i }) => {
    const site = { browserStageCeiling: ceiling ?? DEFAULT_BROWSER_STAGE_CEILING };
    const stage = cappedStage(stageForEvent(type), stageCeilingFor(ACTORS[kind], site));
    const expected = kind === "browser" ? BROWSER_STAGES[site.browserStageCeiling][i] : TRUSTED_STAGES[i];
    expect(stage).toBe(expected);
  });

  it("is the table of docs/stages.md", () => {
    const doc = readFileSync(new URL("../../docs/stages.md", import.meta.url), "utf8");
    const rows = [...doc.matchAll(/^\| `(\w+)` +\| `([\w-]+)` +\| `(\w+)` +\| `([\w-]+)` +\|$/gm)];
    const documented: Record<string, Record<string, string | undefined>> = {};
    for (const [, kind, stages, messageScope, emailVerification] of rows)
      documented[kind!] = { stages, messageScope, emailVerification };
    expect(documented).toEqual(TRUST_POLICY);
    const ceilings = BROWSER_STAGE_CEILINGS.map((s) => `\`${s}\``).join(", ");
    expect(doc).toContain(`one of ${ceilings}, default \`${DEFAULT_BROWSER_STAGE_CEILING}\``);
  });
});
