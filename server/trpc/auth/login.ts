import { authenticate } from "../../auth/login.ts";
import { publicProcedure } from "../middlewares.ts";
import { loginMeta, ZLoginInput } from "./login.types.ts";
import { describeSessionUser } from "./me.ts";
import { ZSessionUser } from "./me.types.ts";

export const login = publicProcedure
  .meta(loginMeta)
  .input(ZLoginInput)
  .output(ZSessionUser)
  .mutation(async ({ ctx, input }) => {
    const { sessionGeneration, ...user } = await authenticate(ctx.db.prisma, ctx.limiters, { ...input, ip: ctx.ip });
    await ctx.session.signIn(user.id, sessionGeneration);
    ctx.logger.info("login", { userId: user.id });
    return describeSessionUser(ctx.db.prisma, user);
  });
