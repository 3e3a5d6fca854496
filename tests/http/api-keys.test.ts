import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAdmin } from "../../server/cli/run-admin.ts";
import type { TSeededWorkspace } from "../support/fixtures.ts";
import { jsonOf, startTestApp, type TTestApp } from "../support/test-app.ts";
import type { TApiKeyViewOut } from "../../server/trpc/api-keys/api-key.types.ts";
import { trpcClient } from "../support/trpc.ts";

type TCreated = TApiKeyViewOut & { secret: string };
type TRestError = { data: { reason: string; issues: { path: (string | number)[] }[] } };

let app: TTestApp;
let seed: TSeededWorkspace;
let adminCookie: string;
let managerCookie: string;
beforeAll(async () => {
  app = await startTestApp();
  seed = await app.seedWorkspace({ roles: ["MANAGER"] });
  adminCookie = await app.login(seed.owner.email, seed.owner.password);
  managerCookie = await app.login(seed.members.MANAGER!.email, seed.members.MANAGER!.password);
}, 60_000);
afterAll(() => app?.close());

const SECRET = /^ff_([0-9a-z]{12})_[A-Za-z0-9_-]{43}$/;

async function rest<T = TRestError>(method: string, path: string, cookie: string, body?: unknown) {
  const res = await fetch(`${app.baseUrl}/api${path}`, {
    method,
    headers: { cookie, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await jsonOf<T>(res) };
}

/** Every column of the key's row as text: the secret must be in none of them. */
async function storedRowText(id: string): Promise<string> {
  return JSON.stringify(await app.db.prisma.apiKey.findUniqueOrThrow({ where: { id } }));
}

describe("API keys over REST", () => {
  const ws = () => `?workspaceId=${seed.workspace.id}`;

  it("creates (secret shown once, stored as its SHA-256 only), lists without secrets, and revokes", async () => {
    const created = await rest<TCreated>("POST", `/api-keys${ws()}`, adminCookie, {
      name: "billing",
      scopes: ["read:profiles"],
    });
    expect(created.status).toBe(200);
    const { secret, id, publicId } = created.body;
    expect(secret).toMatch(SECRET);
    expect(SECRET.exec(secret)?.[1]).toBe(publicId);
    const row = await app.db.prisma.apiKey.findUniqueOrThrow({ where: { id } });
    expect(row.secretHash).toBe(createHash("sha256").update(secret).digest("hex"));
    expect(await storedRowText(id)).not.toContain(secret.split("_").slice(2).join("_"));

    const listed = await rest<{ items: TApiKeyViewOut[] }>("GET", `/api-keys${ws()}`, adminCookie);
    const item = listed.body.items.find((k) => k.id === id);
    expect(item).toMatchObject({ name: "billing", scopes: ["read:profiles"], lastUsedAt: null, revokedAt: null });
    expect(item?.createdBy).toBe(`user:${seed.owner.id}`);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(JSON.stringify(listed.body)).not.toContain(row.secretHash);

    const revoked = await rest<TApiKeyViewOut>("POST", `/api-keys/revoke${ws()}`, adminCookie, { keyId: id });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    const again = await rest<TApiKeyViewOut>("POST", `/api-keys/revoke${ws()}`, adminCookie, { keyId: id });
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
  });

  it("refuses bad input with the field, an unknown key with 404, and non-ADMIN members with 403", async () => {
    const bad = await rest("POST", `/api-keys${ws()}`, adminCookie, { name: "x", scopes: ["write:everything"] });
    expect(bad.status).toBe(400);
    expect(bad.body.data.issues[0]?.path).toEqual(["scopes", 0]);
    const missing = await rest("POST", `/api-keys/revoke${ws()}`, adminCookie, { keyId: "key_nope" });
    expect(missing.status).toBe(404);
    const manager = await rest("POST", `/api-keys${ws()}`, managerCookie, { name: "x", scopes: ["read:profiles"] });
    expect(manager.status).toBe(403);
    expect(manager.body.data.reason).toBe("ROLE_FORBIDDEN");
    expect((await rest("GET", `/api-keys${ws()}`, managerCookie)).status).toBe(403);
    expect((await rest("GET", `/api-keys${ws()}`, "")).status).toBe(401);
  });
});

describe("API keys over tRPC", () => {
  it("creates, lists and revokes with the same procedures", async () => {
    const client = trpcClient(app, adminCookie);
    const workspaceId = seed.workspace.id;
    const created = await client.apiKeys.create.mutate({ workspaceId, name: "agent", scopes: ["write:custom_events"] });
    expect(created.secret).toMatch(SECRET);
    const { items } = await client.apiKeys.list.query({ workspaceId });
    expect(items.map((k) => k.id)).toContain(created.id);
    expect(items.every((k) => !("secret" in k))).toBe(true);
    const revoked = await client.apiKeys.revoke.mutate({ workspaceId, keyId: created.id });
    expect(revoked.revokedAt).not.toBeNull();
    await expect(trpcClient(app, managerCookie).apiKeys.list.query({ workspaceId })).rejects.toMatchObject({
      data: { reason: "ROLE_FORBIDDEN" },
    });
  });
});

describe("admin CLI: key create / list / revoke", () => {
  async function admin(...argv: string[]) {
    let stdout = "";
    let stderr = "";
    const code = await runAdmin(argv, {
      db: app.db,
      stdout: { write: (s: string) => void (stdout += s) },
      stderr: { write: (s: string) => void (stderr += s) },
    });
    return { code, stdout: stdout.trim(), stderr };
  }

  it("prints the secret once, lists without it, revokes, and refuses unknown scopes naming the flag", async () => {
    const ws = seed.workspace.id;
    const created = await admin(
      "key",
      "create",
      "--workspace",
      ws,
      "--name",
      "cli key",
      "--scopes",
      "write:custom_events,read:profiles",
    );
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(SECRET);
    const row = await app.db.prisma.apiKey.findUniqueOrThrow({ where: { publicId: SECRET.exec(created.stdout)![1]! } });
    expect(row).toMatchObject({ createdBy: "cli", scopes: ["write:custom_events", "read:profiles"] });

    const listed = await admin("key", "list", "--workspace", ws);
    expect(listed.stdout).toContain(`${row.id}\tcli key\twrite:custom_events,read:profiles`);
    expect(listed.stdout).not.toContain(created.stdout);

    expect((await admin("key", "revoke", "--workspace", ws, "--key", row.id)).code).toBe(0);
    expect((await app.db.prisma.apiKey.findUniqueOrThrow({ where: { id: row.id } })).revokedAt).not.toBeNull();
    const unknown = await admin("key", "revoke", "--workspace", ws, "--key", "key_nope");
    expect(unknown.code).toBe(1);
    const badScope = await admin("key", "create", "--workspace", ws, "--name", "x", "--scopes", "admin");
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain("--scopes");
  });
});
