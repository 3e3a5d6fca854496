import { z } from "zod";
import { ZWorkspaceScope } from "../middlewares.ts";
import { API_KEY_ERRORS, ZApiKeyScope, ZApiKeyView } from "./api-key.types.ts";
import type { TProcedureMeta, TRestBody } from "../meta.types.ts";

export const createApiKeyMeta: TProcedureMeta = {
  openapi: {
    method: "POST",
    path: "/api-keys",
    tags: ["api-keys"],
    summary: "Create an API key",
    description:
      "Creates a workspace API key for a backend on another host (used as `Authorization: Bearer ff_…` on `/mcp`). " +
      "The `secret` is in this response only: it is stored as a hash and cannot be shown again. ADMIN only.",
    protect: true,
    successDescription: "The key, with its secret (shown once).",
    errorResponses: API_KEY_ERRORS,
  },
  examples: {
    request: { name: "billing backend", scopes: ["write:custom_events", "read:profiles"] } satisfies TRestBody<
      z.input<typeof ZCreateApiKeyInput>
    >,
  },
};

export const ZCreateApiKeyInput = z.strictObject({
  ...ZWorkspaceScope.shape,
  name: z.string().trim().min(1).max(200).describe("What the key is for, e.g. `billing backend`."),
  scopes: z.array(ZApiKeyScope).min(1).max(10).describe("What the key may do."),
});

export const ZCreateApiKeyOutput = ZApiKeyView.extend({
  secret: z.string().describe("`ff_<publicId>_<random>`: store it now, it is never shown again."),
});
