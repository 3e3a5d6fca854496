import { createApiKey } from "../../api-keys/api-keys.ts";
import { workspaceAdminProcedure } from "../middlewares.ts";
import { toApiKeyOut } from "./api-key.types.ts";
import { createApiKeyMeta, ZCreateApiKeyInput, ZCreateApiKeyOutput } from "./create.types.ts";

export const create = workspaceAdminProcedure
  .meta(createApiKeyMeta)
  .input(ZCreateApiKeyInput)
  .output(ZCreateApiKeyOutput)
  .mutation(async ({ ctx, input }) => {
    const key = await createApiKey(ctx.db.prisma, {
      workspaceId: ctx.workspace.id,
      name: input.name,
      scopes: input.scopes,
      createdBy: `user:${ctx.user.id}`,
    });
    return { ...toApiKeyOut(key), secret: key.secret };
  });
