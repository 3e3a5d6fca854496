import { z } from "zod";
import { listMemberships } from "../../auth/users.repo.ts";
import { authedProcedure } from "../middlewares.ts";
import { meMeta, ZSessionUser, type TSessionUser } from "./me.types.ts";

export async function describeSessionUser(
  prisma: Parameters<typeof listMemberships>[0],
  user: TSessionUser["user"],
): Promise<TSessionUser> {
  const memberships = await listMemberships(prisma, user.id);
  return { user, workspaces: memberships.map((m) => ({ id: m.workspace.id, name: m.workspace.name, role: m.role })) };
}

export const me = authedProcedure
  .meta(meMeta)
  .input(z.object({}))
  .output(ZSessionUser)
  .query(({ ctx }) => describeSessionUser(ctx.db.prisma, ctx.user));
