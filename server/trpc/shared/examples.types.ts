import type { TErrorExample } from "../meta.types.ts";

/**
 * The ids the examples use: "Try it out" sends them as they are, so a caller replaces exactly
 * these (the start-up banner prints the real ones of the demo workspace).
 */
export const EXAMPLE_IDS = {
  workspaceId: "ws_123",
  siteId: "site_456",
  profileId: "prf_789",
  keyId: "key_123",
} as const;

/** The CSRF guard's answer to a POST from another origin, before any procedure runs. */
export const CROSS_SITE_EXAMPLE: TErrorExample = {
  reason: "CROSS_SITE_REQUEST",
  message: "Cross-site request refused",
  issues: [],
};
