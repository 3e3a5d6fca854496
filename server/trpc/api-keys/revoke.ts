import { revokeApiKey } from "../../api-keys/api-keys.ts";
import { workspaceAdminProcedure } from "../middlewares.ts";
import { toApiKeyOut, ZApiKeyView } from "./api-key.types.ts";
import { revokeApiKeyMeta, ZRevokeApiKeyInput } from "./revoke.types.ts";

export const revoke = workspaceAdminProcedure
  .meta(revokeApiKeyMeta)
  .input(ZRevokeApiKeyInput)
  .output(ZApiKeyView)
  .mutation(async ({ ctx, input }) =>
    toApiKeyOut(await revokeApiKey(ctx.db.prisma, { workspaceId: ctx.workspace.id, keyId: input.keyId })),
  );
