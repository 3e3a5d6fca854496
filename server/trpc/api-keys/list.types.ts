import { z } from "zod";
import { API_KEY_ERRORS, ZApiKeyView } from "./api-key.types.ts";
import type { TProcedureMeta } from "../meta.types.ts";

export const listApiKeysMeta: TProcedureMeta = {
  openapi: {
    method: "GET",
    path: "/api-keys",
    tags: ["api-keys"],
    summary: "List API keys",
    description: "The workspace's API keys, newest first, revoked ones included; never a secret. ADMIN only.",
    protect: true,
    errorResponses: API_KEY_ERRORS,
  },
};

export const ZListApiKeysOutput = z.object({ items: z.array(ZApiKeyView) });
