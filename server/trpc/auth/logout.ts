import { publicProcedure } from "../middlewares.ts";
import { logoutMeta, ZLogoutInput, ZLogoutOutput, type TLogoutOutput } from "./logout.types.ts";

/** Destroys the session server-side (not just the cookie); logging out twice is harmless. */
export const logout = publicProcedure
  .meta(logoutMeta)
  .input(ZLogoutInput)
  .output(ZLogoutOutput)
  .mutation(async ({ ctx }): Promise<TLogoutOutput> => {
    await ctx.session.signOut();
    return { ok: true };
  });
