import { z } from "zod";
import type { TProcedureMeta } from "../meta.types.ts";
import { CROSS_SITE_EXAMPLE } from "../shared/examples.types.ts";

export const logoutMeta: TProcedureMeta = {
  openapi: {
    method: "POST",
    path: "/auth/logout",
    tags: ["auth"],
    protect: false,
    summary: "Log out",
    description: "Destroys the session in the session store and clears the cookie.",
    errorResponses: { 403: "Cross-site request refused", 415: "Body is not JSON", 503: "Session store unavailable" },
  },
  examples: { request: {} satisfies z.input<typeof ZLogoutInput>, errors: { 403: CROSS_SITE_EXAMPLE } },
};

export const ZLogoutInput = z.object({});
export const ZLogoutOutput = z.object({ ok: z.literal(true) });

export type TLogoutInput = z.infer<typeof ZLogoutInput>;
export type TLogoutOutput = z.infer<typeof ZLogoutOutput>;
