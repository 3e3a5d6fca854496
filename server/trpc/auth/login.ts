import { authenticate } from "../../auth/login.ts";
import { userWithWorkspaces } from "../../auth/users.repo.ts";
import { publicProcedure } from "../middlewares.ts";
import { loginMeta, ZLoginInput, ZLoginOutput } from "./login.types.ts";

export const login = publicProcedure
  .meta(loginMeta)
  .input(ZLoginInput)
  .output(ZLoginOutput)
  .mutation(async ({ ctx, input }) => {
    const { sessionGeneration, ...user } = await authenticate(ctx.db, ctx.limiters, { ...input, ip: ctx.ip });
    await ctx.session.signIn(user.id, sessionGeneration);
    ctx.logger.info("login", { userId: user.id });
    return userWithWorkspaces(ctx.db, user);
  });
