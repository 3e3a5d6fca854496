import { z } from "zod";
import { API_KEY_SCOPES } from "../../api-keys/api-keys.ts";

export const ZApiKeyScope = z.enum(API_KEY_SCOPES);

/** A key as listed: never the secret nor its hash. */
export const ZApiKeyView = z.object({
  id: z.string().describe("The key's id; events recorded with it carry `recordedBy: key:<id>`."),
  name: z.string(),
  scopes: z.array(ZApiKeyScope),
  publicId: z.string().describe("The short id inside the secret (`ff_<publicId>_…`), to tell keys apart."),
  createdBy: z.string().describe("`user:<id>` or `cli`."),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable().describe("Refreshed at most once a minute."),
  revokedAt: z.string().nullable(),
});

export type TApiKeyViewOut = z.infer<typeof ZApiKeyView>;

export function toApiKeyOut(k: {
  id: string;
  name: string;
  scopes: string[];
  publicId: string;
  createdBy: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}): TApiKeyViewOut {
  return {
    ...k,
    scopes: k.scopes as TApiKeyViewOut["scopes"],
    createdAt: k.createdAt.toISOString(),
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
  };
}

export const API_KEY_ERRORS = {
  400: "Invalid input; `data.issues` names the field",
  401: "No valid session",
  403: "Not an ADMIN of the workspace, or a cross-site Origin",
  503: "Session store or database temporarily unavailable",
};
