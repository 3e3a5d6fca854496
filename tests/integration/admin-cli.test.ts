import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyPassword } from "../../server/auth/passwords.ts";
import { runAdmin } from "../../server/cli/run-admin.ts";
import { openDatabase, type TDatabase } from "../../server/db/database.ts";
import { createTestDatabase } from "../support/test-database.ts";
import { objectContaining, stringMatching } from "../support/matchers.ts";

let db: TDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
}, 60_000);
afterAll(async () => {
  await db?.close();
});

function sink() {
  const out = { text: "", write: (chunk: string) => void (out.text += chunk) };
  return out;
}

/** Runs one admin command against the test database. */
async function admin(...argv: string[]) {
  const stdout = sink();
  const stderr = sink();
  const code = await runAdmin(argv, { db, stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text, id: stdout.text.trim() };
}

/**
 * Runs one admin command with an embedded data folder that does not exist yet; `opened` tells
 * whether the command created it, i.e. opened a database.
 */
async function adminWithoutDatabase(argv: string[]) {
  const dataDir = path.join(tmpdir(), `admin-cli-never-${process.pid}-${++n}`);
  const stdout = sink();
  const stderr = sink();
  const code = await runAdmin(argv, { stdout, stderr, env: { DATA_DIR: dataDir } });
  return { code, stdout: stdout.text, stderr: stderr.text, opened: existsSync(dataDir) };
}

/** The `--json` output, typed as the test expects it; the assertions check it. */
const json = <T = unknown>(r: { stdout: string }) => JSON.parse(r.stdout) as T;
let n = 0;
const email = (label: string) => `${label}-${++n}@example.test`;

/** Owner shared by the tests that only need some workspace (each hash costs a scrypt). */
let sharedOwner: Promise<string> | undefined;

/** A fresh workspace (through the CLI) owned by the shared owner. */
async function userAndWorkspace() {
  sharedOwner ??= (async () => {
    const owner = email("owner");
    expect((await admin("user", "create", "--email", owner, "--password", "password-1")).code).toBe(0);
    return owner;
  })();
  const owner = await sharedOwner;
  const ws = json<{ id: string; defaultFunnelId: string }>(
    await admin("workspace", "create", "--name", "Acme", "--owner", owner, "--json"),
  );
  return { owner, workspaceId: ws.id, defaultFunnelId: ws.defaultFunnelId };
}

describe("user create / user password", () => {
  it("creates a user with a scrypt hash and prints the id", async () => {
    const r = await admin(
      "user",
      "create",
      "--email",
      "  Ops@Example.TEST ",
      "--password",
      "s3cret-pass",
      "--name",
      "Ops",
    );
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(/^usr_[0-9a-z]{26}\n$/);
    const user = await db.prisma.user.findUniqueOrThrow({ where: { id: r.id } });
    expect(user).toMatchObject({ email: "ops@example.test", name: "Ops" });
    expect(user.passwordHash).toMatch(/^scrypt\$/);
    expect(await verifyPassword("s3cret-pass", user.passwordHash)).toBe(true);
  });

  it("reads the password from standard input with --password - (one trailing newline dropped)", async () => {
    const e = email("stdin");
    const stdout = sink();
    const stderr = sink();
    const code = await runAdmin(["user", "create", "--email", e, "--password", "-"], {
      db,
      stdout,
      stderr,
      readStdin: () => Promise.resolve("from stdin pass\n"),
    });
    expect({ code, stderr: stderr.text }).toEqual({ code: 0, stderr: "" });
    const user = await db.prisma.user.findUniqueOrThrow({ where: { email: e } });
    expect(await verifyPassword("from stdin pass", user.passwordHash)).toBe(true);
    expect(await verifyPassword("-", user.passwordHash)).toBe(false);
  });

  it("prints a JSON object with --json", async () => {
    const e = email("json");
    const r = await admin("user", "create", "--email", e, "--password", "password-1", "--json");
    expect(json(r)).toEqual({ id: stringMatching(/^usr_/), email: e, name: null });
  });

  it("refuses a duplicate email (exit 1, nothing on stdout)", async () => {
    const e = email("dup");
    expect((await admin("user", "create", "--email", e, "--password", "password-1")).code).toBe(0);
    const r = await admin("user", "create", "--email", e.toUpperCase(), "--password", "password-2");
    expect(r).toMatchObject({ code: 1, stdout: "", stderr: `admin: a user with email ${e} already exists\n` });
    expect(await db.prisma.user.count({ where: { email: e } })).toBe(1);
  });

  it("resets a password", async () => {
    const e = email("reset");
    const { id } = await admin("user", "create", "--email", e, "--password", "old-password");
    const r = await admin("user", "password", "--email", e, "--password", "new-password");
    expect(r).toMatchObject({ code: 0, id });
    const { passwordHash } = await db.prisma.user.findUniqueOrThrow({ where: { id } });
    expect(await verifyPassword("new-password", passwordHash)).toBe(true);
    expect(await verifyPassword("old-password", passwordHash)).toBe(false);
  });

  it("fails to reset the password of an unknown email", async () => {
    const r = await admin("user", "password", "--email", "nobody@example.test", "--password", "new-password");
    expect(r).toMatchObject({ code: 1, stdout: "", stderr: "admin: no user with email nobody@example.test\n" });
  });
});

describe("workspace create / member add", () => {
  it("creates the workspace, its default funnel, and the owner as ADMIN", async () => {
    const owner = email("owner");
    const { id: ownerId } = await admin("user", "create", "--email", owner, "--password", "password-1");
    const r = await admin("workspace", "create", "--name", "Acme", "--owner", owner);
    expect(r.stdout).toMatch(/^ws_[0-9a-z]{26}\n$/);
    const ws = await db.prisma.workspace.findUniqueOrThrow({
      where: { id: r.id },
      include: { funnels: true, members: true },
    });
    expect(ws.name).toBe("Acme");
    expect(ws.funnels).toEqual([objectContaining({ isDefault: true })]);
    expect(ws.members).toEqual([objectContaining({ userId: ownerId, role: "ADMIN" })]);
  });

  it("fails for an unknown owner and creates nothing", async () => {
    const before = await db.prisma.workspace.count();
    const r = await admin("workspace", "create", "--name", "X", "--owner", "ghost@example.test");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^admin: no user with email ghost@example\.test/);
    expect(await db.prisma.workspace.count()).toBe(before);
  });

  it("adds a member, then changes the role", async () => {
    const { workspaceId } = await userAndWorkspace();
    const e = email("member");
    const { id: userId } = await admin("user", "create", "--email", e, "--password", "password-1");
    const added = await admin(
      "member",
      "add",
      "--workspace",
      workspaceId,
      "--email",
      e,
      "--role",
      "view_only",
      "--json",
    );
    expect(json(added)).toEqual({ workspaceId, userId, email: e, role: "VIEW_ONLY", previousRole: null });
    const changed = await admin("member", "add", "--workspace", workspaceId, "--email", e, "--role", "MANAGER");
    expect(changed).toMatchObject({ code: 0, id: userId });
    const member = await db.prisma.workspaceMember.findUniqueOrThrow({
      where: { workspaceId_userId: { workspaceId, userId } },
    });
    expect(member.role).toBe("MANAGER");
  });

  it.each([
    [
      "an unknown workspace",
      (ws: string, e: string) => ["--workspace", `${ws}x`, "--email", e, "--role", "ADMIN"],
      1,
      /no workspace with id ws_/,
    ],
    [
      "an unknown email",
      (ws: string) => ["--workspace", ws, "--email", "ghost@example.test", "--role", "ADMIN"],
      1,
      /no user with email ghost@example\.test/,
    ],
    [
      "a bad role",
      (ws: string, e: string) => ["--workspace", ws, "--email", e, "--role", "OWNER"],
      2,
      /--role: must be ADMIN, MANAGER or VIEW_ONLY/,
    ],
    ["a missing role", (ws: string, e: string) => ["--workspace", ws, "--email", e], 2, /--role is required/],
  ])("member add with %s fails", async (_label, args, code, message) => {
    const { workspaceId, owner } = await userAndWorkspace();
    const r = await admin("member", "add", ...args(workspaceId, owner));
    expect(r.code).toBe(code);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
  });
});

describe("member remove / session revoke", () => {
  it("removes a member, and refuses a non-member and the last ADMIN", async () => {
    const { workspaceId, owner } = await userAndWorkspace();
    const e = email("leaver");
    const { id: userId } = await admin("user", "create", "--email", e, "--password", "password-1");
    await admin("member", "add", "--workspace", workspaceId, "--email", e, "--role", "ADMIN");
    const removed = await admin("member", "remove", "--workspace", workspaceId, "--email", e, "--json");
    expect(json(removed)).toEqual({ workspaceId, userId, email: e, removedRole: "ADMIN" });
    expect(await db.prisma.workspaceMember.count({ where: { workspaceId, userId } })).toBe(0);

    const again = await admin("member", "remove", "--workspace", workspaceId, "--email", e);
    expect(again).toMatchObject({
      code: 1,
      stdout: "",
      stderr: `admin: ${e} is not a member of workspace ${workspaceId}\n`,
    });
    const last = await admin("member", "remove", "--workspace", workspaceId, "--email", owner);
    expect(last).toMatchObject({ code: 1, stdout: "" });
    expect(last.stderr).toMatch(/is the last ADMIN of workspace .*: make another member ADMIN first/);
    expect(await db.prisma.workspaceMember.count({ where: { workspaceId, role: "ADMIN" } })).toBe(1);
  });

  it("member add refuses to demote the last ADMIN, and demotes one of two", async () => {
    const { workspaceId, owner } = await userAndWorkspace();
    const demote = await admin("member", "add", "--workspace", workspaceId, "--email", owner, "--role", "VIEW_ONLY");
    expect(demote).toMatchObject({ code: 1, stdout: "" });
    expect(demote.stderr).toMatch(/is the last ADMIN of workspace .*: make another member ADMIN first/);

    const e = email("second-admin");
    await admin("user", "create", "--email", e, "--password", "password-1");
    await admin("member", "add", "--workspace", workspaceId, "--email", e, "--role", "ADMIN");
    const ok = await admin(
      "member",
      "add",
      "--workspace",
      workspaceId,
      "--email",
      owner,
      "--role",
      "MANAGER",
      "--json",
    );
    expect(json(ok)).toMatchObject({ role: "MANAGER", previousRole: "ADMIN" });
    const roles = await db.prisma.workspaceMember.findMany({ where: { workspaceId }, select: { role: true } });
    expect(roles.map((r) => r.role).sort()).toEqual(["ADMIN", "MANAGER"]);
  });

  it("two operators removing the last two ADMINs at once: one wins, one ADMIN is left", async () => {
    for (let round = 0; round < 5; round++) {
      const { workspaceId, owner } = await userAndWorkspace();
      const e = email("co-admin");
      await admin("user", "create", "--email", e, "--password", "password-1");
      await admin("member", "add", "--workspace", workspaceId, "--email", e, "--role", "ADMIN");
      const results = await Promise.all([
        admin("member", "remove", "--workspace", workspaceId, "--email", owner),
        admin("member", "remove", "--workspace", workspaceId, "--email", e),
      ]);
      expect(results.map((r) => r.code).sort()).toEqual([0, 1]);
      expect(await db.prisma.workspaceMember.count({ where: { workspaceId, role: "ADMIN" } })).toBe(1);
    }
  });

  it("session revoke and user password move the user's session generation on", async () => {
    const e = email("revoked");
    const { id } = await admin("user", "create", "--email", e, "--password", "password-1");
    const generation = async () => (await db.prisma.user.findUniqueOrThrow({ where: { id } })).sessionGeneration;
    expect(await generation()).toBe(0);
    expect(json(await admin("session", "revoke", "--email", e, "--json"))).toEqual({
      id,
      email: e,
      sessionsEnded: true,
    });
    expect(await generation()).toBe(1);
    await admin("user", "password", "--email", e, "--password", "password-2");
    expect(await generation()).toBe(2);
    expect(await admin("session", "revoke", "--email", "ghost@example.test")).toMatchObject({
      code: 1,
      stderr: stringMatching(/no user with email/),
    });
  });
});

describe("site create / site list", () => {
  it("puts the site in the default funnel, with the domain lower-cased and as the default name", async () => {
    const { workspaceId, defaultFunnelId } = await userAndWorkspace();
    const r = await admin("site", "create", "--workspace", workspaceId, "--domain", "Shop.Example.COM", "--json");
    expect(json(r)).toEqual({
      id: stringMatching(/^site_/),
      workspaceId,
      funnelId: defaultFunnelId,
      domain: "shop.example.com",
      name: "shop.example.com",
    });
  });

  it("takes --funnel only from the same workspace", async () => {
    const a = await userAndWorkspace();
    const b = await userAndWorkspace();
    const ok = await admin(
      "site",
      "create",
      "--workspace",
      a.workspaceId,
      "--domain",
      "a.example",
      "--funnel",
      a.defaultFunnelId,
      "--name",
      "A site",
    );
    expect(ok.code).toBe(0);
    expect(await db.prisma.trackingSite.findUniqueOrThrow({ where: { id: ok.id } })).toMatchObject({
      funnelId: a.defaultFunnelId,
      name: "A site",
    });
    const cross = await admin(
      "site",
      "create",
      "--workspace",
      a.workspaceId,
      "--domain",
      "b.example",
      "--funnel",
      b.defaultFunnelId,
    );
    expect(cross).toMatchObject({
      code: 1,
      stdout: "",
      stderr: `admin: funnel ${b.defaultFunnelId} is not a funnel of workspace ${a.workspaceId}\n`,
    });
    expect(await db.prisma.trackingSite.count({ where: { workspaceId: a.workspaceId } })).toBe(1);
  });

  it.each([
    "https://shop.example.com",
    "shop.example.com/path",
    "shop.example.com:8080",
    "bad-.example",
    "under_score.example",
  ])("refuses the domain %s (exit 2)", async (domain) => {
    const { workspaceId } = await userAndWorkspace();
    const r = await admin("site", "create", "--workspace", workspaceId, "--domain", domain);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--domain: must be a host name");
  });

  it("refuses a second site with a domain the workspace has (exit 1), unless --allow-duplicate-domain", async () => {
    const { workspaceId, defaultFunnelId } = await userAndWorkspace();
    const first = await admin("site", "create", "--workspace", workspaceId, "--domain", "dup.example");
    expect(first.code).toBe(0);
    const again = await admin("site", "create", "--workspace", workspaceId, "--domain", "DUP.example");
    expect(again).toMatchObject({
      code: 1,
      stdout: "",
      stderr:
        `admin: workspace ${workspaceId} already has site ${first.id} for dup.example; use it, ` +
        "or pass --allow-duplicate-domain to create a second one (e.g. for another funnel)\n",
    });
    expect(await db.prisma.trackingSite.count({ where: { workspaceId } })).toBe(1);
    // Another workspace may have the same domain.
    const other = await userAndWorkspace();
    expect((await admin("site", "create", "--workspace", other.workspaceId, "--domain", "dup.example")).code).toBe(0);
    const forced = await admin(
      "site",
      "create",
      "--workspace",
      workspaceId,
      "--domain",
      "dup.example",
      "--allow-duplicate-domain",
      "--json",
    );
    expect(json(forced)).toMatchObject({ domain: "dup.example", funnelId: defaultFunnelId });
    expect(await db.prisma.trackingSite.count({ where: { workspaceId } })).toBe(2);
  });

  it("lists the sites of a workspace, oldest first", async () => {
    const { workspaceId, defaultFunnelId } = await userAndWorkspace();
    const first = await admin("site", "create", "--workspace", workspaceId, "--domain", "one.example");
    const second = await admin(
      "site",
      "create",
      "--workspace",
      workspaceId,
      "--domain",
      "two.example",
      "--name",
      "Two",
    );
    const text = await admin("site", "list", "--workspace", workspaceId);
    expect(text.stdout).toBe(
      `${first.id}\tone.example\t${defaultFunnelId}\tone.example\n${second.id}\ttwo.example\t${defaultFunnelId}\tTwo\n`,
    );
    const listed = json<{ sites: { id: string }[] }>(await admin("site", "list", "--workspace", workspaceId, "--json"));
    expect(listed.sites.map((s) => s.id)).toEqual([first.id, second.id]);
  });

  it("lists nothing for a workspace without sites, and fails for an unknown one", async () => {
    const { workspaceId } = await userAndWorkspace();
    expect(await admin("site", "list", "--workspace", workspaceId)).toMatchObject({ code: 0, stdout: "" });
    expect(await admin("site", "list", "--workspace", "ws_missing")).toMatchObject({
      code: 1,
      stderr: "admin: no workspace with id ws_missing\n",
    });
  });
});

describe("migrate, help and usage errors", () => {
  it("reports an up-to-date database", async () => {
    expect(await admin("migrate")).toMatchObject({
      code: 0,
      stdout: "database is up to date (no pending migrations)\n",
    });
    expect(json(await admin("migrate", "--json"))).toEqual({ mode: db.mode, applied: [] });
  });

  it("prints help on stdout", async () => {
    const r = await admin("help");
    expect(r.code).toBe(0);
    const commands = [
      "user create",
      "user password",
      "session revoke",
      "workspace create",
      "member add",
      "member remove",
      "site create",
      "site list",
      "migrate",
    ];
    for (const c of commands) expect(r.stdout).toContain(c);
  });

  it.each([
    [[], "no command given"],
    [["frobnicate"], 'unknown command "frobnicate"'],
    [["user", "create", "--email", "a@b.example"], "--password is required"],
    [["user", "create", "--email", "not-an-email", "--password", "password-1"], "--email: must be an email address"],
    [["user", "create", "--email", "a@b.example", "--password", "short"], "--password: must be at least 8 characters"],
    [
      ["user", "create", "--email", "a@b.example", "--password", "password-1", "--role", "ADMIN"],
      "Unknown option '--role'",
    ],
    [["site", "list", "--workspace"], "argument missing"],
    [["site", "list", "--workspace", "ws_1", "extra"], "Unexpected argument 'extra'"],
    [["workspace", "create", "--name", "  ", "--owner", "a@b.example"], "--name: must not be empty"],
  ])("%j is a usage error: one line on stderr, exit 2, no database opened", async (argv, message) => {
    const r = await adminWithoutDatabase(argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(message);
    expect(r.stderr.split("\n")).toEqual([stringMatching(/^admin: /), ""]);
    expect(r.opened).toBe(false);
  });

  it.each([
    ["user", ["user create", "user password"]],
    ["session", ["session revoke"]],
    ["workspace", ["workspace create"]],
    ["member", ["member add", "member remove"]],
    ["site", ["site create", "site list"]],
  ])("%s alone lists its subcommands (exit 2, no database opened)", async (group, subcommands) => {
    for (const argv of [[group], [group, "frobnicate"]]) {
      const r = await adminWithoutDatabase(argv);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.split("\n")[0]).toBe(
        argv.length === 1
          ? `admin: "${group}" needs a subcommand. ${group} commands:`
          : `admin: unknown command "${group} frobnicate". ${group} commands:`,
      );
      for (const sub of subcommands) expect(r.stderr).toMatch(new RegExp(`^  ${sub} `, "m"));
      expect(r.stderr).not.toContain("migrate");
      expect(r.opened).toBe(false);
    }
  });

  it("fails with the variable's name when the configuration is invalid", async () => {
    const stderr = sink();
    const code = await runAdmin(["site", "list", "--workspace", "ws_1"], {
      stdout: sink(),
      stderr,
      env: { DATABASE_URL: "mysql://nope" },
    });
    expect(code).toBe(1);
    expect(stderr.text).toMatch(/^admin: Invalid configuration: DATABASE_URL: must be a postgres/);
  });
});

describe("the real entry point (npx tsx server/cli/admin.ts)", () => {
  const root = path.resolve(import.meta.dirname, "../..");
  function run(argv: string[], env: NodeJS.ProcessEnv) {
    return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        "npx",
        ["tsx", "server/cli/admin.ts", ...argv],
        { cwd: root, env, timeout: 60_000 },
        (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr });
        },
      );
    });
  }

  it("works on an embedded data folder, and is refused while another process holds it", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "admin-cli-"));
    const dataDir = path.join(dir, "data");
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, NODE_ENV: "development" };
    delete env.DATABASE_URL;
    try {
      const created = await run(["user", "create", "--email", "cli@example.test", "--password", "password-1"], env);
      expect(created).toMatchObject({ code: 0, stdout: stringMatching(/^usr_[0-9a-z]{26}\n$/) });

      // This test process now holds the folder, as a running server would.
      const held = await openDatabase({ dataDir });
      try {
        expect(
          await held.prisma.user.findUnique({ where: { email: "cli@example.test" }, select: { id: true } }),
        ).toEqual({ id: created.stdout.trim() });
        const refused = await run(
          ["user", "create", "--email", "second@example.test", "--password", "password-1"],
          env,
        );
        expect(refused.code).toBe(1);
        expect(refused.stdout).toBe("");
        expect(refused.stderr).toBe(
          `admin: "user create" needs the embedded database in ${dataDir}, which process ${process.pid} ` +
            `(the server?) holds, and its admin socket ${dataDir}/admin.sock did not answer: it does not exist. ` +
            `Stop that process, or set DATABASE_URL to use PostgreSQL.\n`,
        );
        const list = await run(["site", "list", "--workspace", "ws_1"], env);
        expect(list.code).toBe(1);
        expect(list.stderr).toContain(
          `admin: "site list" needs the embedded database in ${dataDir}, which process ${process.pid}`,
        );
        expect(await held.prisma.user.count()).toBe(1);
      } finally {
        await held.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
