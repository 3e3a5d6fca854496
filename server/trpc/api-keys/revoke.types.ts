import { z } from "zod";
import { ZStorableId } from "../../db/storable.ts";
import { ZWorkspaceScope } from "../middlewares.ts";
import { API_KEY_ERRORS } from "./api-key.types.ts";
import type { TProcedureMeta, TRestBody } from "../meta.types.ts";
import { EXAMPLE_IDS } from "../shared/examples.types.ts";

export const revokeApiKeyMeta: TProcedureMeta = {
  openapi: {
    method: "POST",
    path: "/api-keys/revoke",
    tags: ["api-keys"],
    summary: "Revoke an API key",
    description:
      "Revokes a key of the workspace: its next request, on any instance, is refused with 401 API_KEY_REVOKED. " +
      "Revoking twice keeps the first time. ADMIN only.",
    protect: true,
    successDescription: "The key as revoked.",
    errorResponses: { ...API_KEY_ERRORS, 404: "No such key in the workspace" },
  },
  examples: { request: { keyId: EXAMPLE_IDS.keyId } satisfies TRestBody<z.input<typeof ZRevokeApiKeyInput>> },
};

export const ZRevokeApiKeyInput = z.strictObject({
  ...ZWorkspaceScope.shape,
  keyId: ZStorableId(40).describe("The key's `id` from the list.").meta({ example: "key_01jd7x4k2m9q8r7s6t5v4w3x2y" }),
});
