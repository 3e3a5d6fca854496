import { z } from "zod";
import { publicProcedure } from "../middlewares.ts";

/** Destroys the session server-side (not just the cookie); logging out twice is harmless. */
export const logout = publicProcedure
  .meta({
    openapi: {
      method: "POST",
      path: "/auth/logout",
      tags: ["auth"],
      protect: false,
      summary: "Log out",
      description: "Destroys the session in the session store and clears the cookie.",
      errorResponses: { 403: "Cross-site request refused", 415: "Body is not JSON", 503: "Session store unavailable" },
    },
  })
  .input(z.object({}))
  .output(z.object({ ok: z.literal(true) }))
  .mutation(async ({ ctx }) => {
    await ctx.session.signOut();
    return { ok: true as const };
  });
