import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { TDatabase } from "../db/database.ts";
import { newId } from "../db/ids.ts";
import { preparedQuery } from "../db/sql.ts";
import { DomainError } from "../errors/domain-error.ts";

export const API_KEY_SCOPES = ["write:custom_events", "read:profiles"] as const;
export type TApiKeyScope = (typeof API_KEY_SCOPES)[number];

const PUBLIC_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const PUBLIC_ID_LENGTH = 12;
const SECRET_BYTES = 32;
/** `ff_<publicId>_<base64url of 32 random bytes>`; base64url may itself contain `_`, so the id has a fixed length. */
const SECRET_PATTERN = /^ff_([0-9a-z]{12})_([A-Za-z0-9_-]{43})$/;

/** An authenticated key: what a request made with it may do, and in which workspace. */
export type TApiKeyPrincipal = { id: string; workspaceId: string; name: string; scopes: TApiKeyScope[] };

/** What a listing shows of a key: never the secret nor its hash. */
export type TApiKeyView = {
  id: string;
  name: string;
  scopes: TApiKeyScope[];
  publicId: string;
  createdBy: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};

function newPublicId(): string {
  return [...randomBytes(PUBLIC_ID_LENGTH)].map((b) => PUBLIC_ID_ALPHABET[b % 32]).join("");
}

/** SHA-256 is enough here: the secret has 256 random bits, so there is nothing to brute-force. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Creates a key; the returned `secret` is the only time it exists outside the caller's hands. */
export async function createApiKey(
  prisma: PrismaClient,
  input: { workspaceId: string; name: string; scopes: TApiKeyScope[]; createdBy: string },
): Promise<TApiKeyView & { secret: string }> {
  const publicId = newPublicId();
  const secret = `ff_${publicId}_${randomBytes(SECRET_BYTES).toString("base64url")}`;
  const row = await prisma.apiKey.create({
    data: {
      id: newId("key"),
      workspaceId: input.workspaceId,
      name: input.name,
      scopes: [...new Set(input.scopes)],
      publicId,
      secretHash: hashSecret(secret),
      createdBy: input.createdBy,
    },
  });
  return { ...toView(row), secret };
}

const VIEW_FIELDS = {
  id: true,
  name: true,
  scopes: true,
  publicId: true,
  createdBy: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
} as const;

function toView(row: { scopes: string[] } & Omit<TApiKeyView, "scopes">): TApiKeyView {
  const { id, name, publicId, createdBy, createdAt, lastUsedAt, revokedAt } = row;
  return { id, name, publicId, createdBy, createdAt, lastUsedAt, revokedAt, scopes: row.scopes as TApiKeyScope[] };
}

/** The workspace's keys, newest first, revoked ones included (with `revokedAt`). */
export async function listApiKeys(prisma: PrismaClient, workspaceId: string): Promise<TApiKeyView[]> {
  const rows = await prisma.apiKey.findMany({
    where: { workspaceId },
    select: VIEW_FIELDS,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
  });
  return rows.map(toView);
}

/**
 * Revokes a key of the workspace (idempotent: the first revocation time stays). Every request
 * reads the key row, so the next request on any instance is refused.
 */
export async function revokeApiKey(
  prisma: PrismaClient,
  input: { workspaceId: string; keyId: string },
  now = new Date(),
): Promise<TApiKeyView> {
  await prisma.apiKey.updateMany({
    where: { id: input.keyId, workspaceId: input.workspaceId, revokedAt: null },
    data: { revokedAt: now },
  });
  const row = await prisma.apiKey.findFirst({
    where: { id: input.keyId, workspaceId: input.workspaceId },
    select: VIEW_FIELDS,
  });
  if (!row) {
    throw new DomainError("NOT_FOUND", "No such API key in this workspace", [
      { path: ["keyId"], code: "not_found", message: "not a key of this workspace" },
    ]);
  }
  return toView(row);
}

/** `last_used_at` is refreshed at most once a minute per key, so busy keys do not write on every request. */
const LAST_USED_GRANULARITY_MS = 60_000;

type TKeyRow = {
  id: string;
  workspaceId: string;
  name: string;
  scopes: string[];
  secretHash: string;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};

/**
 * The key a bearer secret belongs to, or null when it is malformed, unknown, revoked or wrong.
 * The stored hash is compared in constant time; revocation is read from the database each time.
 * Raw `pg` (named statements): every request made with a key comes through here, and the ingest
 * path never loads Prisma's query compiler.
 */
export async function findKeyBySecret(
  db: TDatabase,
  secret: string,
  now = new Date(),
): Promise<{ key: TApiKeyPrincipal | null; revoked: boolean }> {
  const match = SECRET_PATTERN.exec(secret);
  if (!match) return { key: null, revoked: false };
  const [row] = await preparedQuery(db, "api_key_by_public_id").rows<TKeyRow>`
    SELECT id, workspace_id AS "workspaceId", name, scopes::text[] AS scopes, secret_hash AS "secretHash",
      last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"
    FROM api_keys WHERE public_id = ${match[1]!}`;
  const presented = Buffer.from(hashSecret(secret), "hex");
  const stored = Buffer.from(row?.secretHash ?? "0".repeat(64), "hex");
  if (!row || !timingSafeEqual(presented, stored)) return { key: null, revoked: false };
  if (row.revokedAt) return { key: null, revoked: true };
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_GRANULARITY_MS) {
    await preparedQuery(db, "api_key_used").rows`UPDATE api_keys SET last_used_at = ${now} WHERE id = ${row.id}`;
  }
  const scopes = row.scopes.filter((s): s is TApiKeyScope => (API_KEY_SCOPES as readonly string[]).includes(s));
  return { key: { id: row.id, workspaceId: row.workspaceId, name: row.name, scopes }, revoked: false };
}

/** Refuses a key without `scope`: 403 SCOPE_FORBIDDEN, before anything is read or written. */
export function requireScope(key: TApiKeyPrincipal, scope: TApiKeyScope): void {
  if (!key.scopes.includes(scope)) {
    throw new DomainError("SCOPE_FORBIDDEN", `This API key lacks the scope ${scope}`, [
      { path: [], code: "forbidden", message: `needs scope ${scope}; the key has ${key.scopes.join(", ") || "none"}` },
    ]);
  }
}
