import { z } from "zod";
import { API_KEY_SCOPES, createApiKey, listApiKeys, revokeApiKey } from "../../api-keys/api-keys.ts";
import { DomainError } from "../../errors/domain-error.ts";
import { CommandFailedError, defineCommand, ZCliId, ZCliName } from "../command.ts";
import { requireWorkspace } from "./workspace.ts";

const ZCliScopes = z
  .string()
  .transform((v) => v.split(",").map((s) => s.trim()))
  .pipe(z.array(z.enum(API_KEY_SCOPES, `must be a comma-separated list of ${API_KEY_SCOPES.join(", ")}`)).min(1));

export const keyCreate = defineCommand({
  name: "key create",
  summary: "Create a workspace API key; prints its secret, which is shown this once and stored only as a hash",
  usage: `key create --workspace <id> --name <name> --scopes <${API_KEY_SCOPES.join(",")}>`,
  options: { workspace: { required: true }, name: { required: true }, scopes: { required: true } },
  input: z.object({ workspace: ZCliId, name: ZCliName, scopes: ZCliScopes }),
  async run({ db }, input) {
    await requireWorkspace(db, input.workspace);
    const key = await createApiKey(db.prisma, {
      workspaceId: input.workspace,
      name: input.name,
      scopes: input.scopes,
      createdBy: "cli",
    });
    return {
      text: key.secret,
      json: { id: key.id, publicId: key.publicId, name: key.name, scopes: key.scopes, secret: key.secret },
    };
  },
});

export const keyList = defineCommand({
  name: "key list",
  summary: "List a workspace's API keys (id, name, scopes, created, last used, revoked; tab-separated; no secrets)",
  usage: "key list --workspace <id>",
  options: { workspace: { required: true } },
  input: z.object({ workspace: ZCliId }),
  async run({ db }, input) {
    await requireWorkspace(db, input.workspace);
    const keys = await listApiKeys(db.prisma, input.workspace);
    const iso = (d: Date | null) => d?.toISOString() ?? "-";
    return {
      text: keys
        .map((k) =>
          [k.id, k.name, k.scopes.join(","), iso(k.createdAt), iso(k.lastUsedAt), iso(k.revokedAt)].join("\t"),
        )
        .join("\n"),
      json: {
        workspaceId: input.workspace,
        keys: keys.map((k) => ({
          ...k,
          createdAt: iso(k.createdAt),
          lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
          revokedAt: k.revokedAt?.toISOString() ?? null,
        })),
      },
    };
  },
});

export const keyRevoke = defineCommand({
  name: "key revoke",
  summary: "Revoke an API key: its next request, on any instance, is refused",
  usage: "key revoke --workspace <id> --key <keyId>",
  options: { workspace: { required: true }, key: { required: true } },
  input: z.object({ workspace: ZCliId, key: ZCliId }),
  async run({ db }, input) {
    await requireWorkspace(db, input.workspace);
    try {
      const key = await revokeApiKey(db.prisma, { workspaceId: input.workspace, keyId: input.key });
      return { text: key.id, json: { id: key.id, revokedAt: key.revokedAt?.toISOString() ?? null } };
    } catch (err) {
      if (err instanceof DomainError && err.code === "NOT_FOUND") {
        throw new CommandFailedError(`no API key ${input.key} in workspace ${input.workspace}`);
      }
      throw err;
    }
  },
});
