import { listApiKeys } from "../../api-keys/api-keys.ts";
import { workspaceAdminProcedure } from "../middlewares.ts";
import { toApiKeyOut } from "./api-key.types.ts";
import { listApiKeysMeta, ZListApiKeysOutput } from "./list.types.ts";

export const list = workspaceAdminProcedure
  .meta(listApiKeysMeta)
  .output(ZListApiKeysOutput)
  .query(async ({ ctx }) => ({ items: (await listApiKeys(ctx.db.prisma, ctx.workspace.id)).map(toApiKeyOut) }));
