import { userWithWorkspaces } from "../../auth/users.repo.ts";
import { authedProcedure } from "../middlewares.ts";
import { meMeta, ZMeInput, ZMeOutput } from "./me.types.ts";

export const me = authedProcedure
  .meta(meMeta)
  .input(ZMeInput)
  .output(ZMeOutput)
  .query(({ ctx }) => userWithWorkspaces(ctx.db, ctx.user));
