import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedDatabaseLockedError, openDatabase, type TDatabase } from "../../server/db/database.ts";
import { ingestEvents } from "../../server/tracking/ingest/ingest-events.ts";
import { ZRecordServerEventsBody } from "../../server/tracking/server-event.schema.ts";
import { seedWorkspace } from "../support/fixtures.ts";
import { createTestDatabase } from "../support/test-database.ts";

let tmp: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "fse-database-"));
});

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe("embedded database on disk", () => {
  it("is opened by one holder at a time, and keeps its data across opens", async () => {
    const dataDir = path.join(tmp, "nested", "data");
    const first = await openDatabase({ dataDir });
    try {
      expect(first.mode).toBe("embedded");
      await first.prisma.user.create({ data: { id: "usr_1", email: "kept@example.test", passwordHash: "x" } });
      const second = await openDatabase({ dataDir }).catch((e: unknown) => e);
      expect(second).toBeInstanceOf(EmbeddedDatabaseLockedError);
      expect(second).toMatchObject({
        pid: process.pid,
        message:
          `the embedded database in ${dataDir} is in use by process ${process.pid} (the server?). ` +
          "Stop it, or set DATABASE_URL to use PostgreSQL.",
      });
    } finally {
      await first.close();
    }
    await expect(fs.access(path.join(dataDir, "server.lock"))).rejects.toThrow();

    const reopened = await openDatabase({ dataDir });
    try {
      expect(await reopened.prisma.user.findMany({ select: { email: true } })).toEqual([
        { email: "kept@example.test" },
      ]);
    } finally {
      await reopened.close();
    }
  }, 120_000);

  it("takes over the lock of a process that died", async () => {
    const dataDir = path.join(tmp, "stale");
    const deadPid = spawnSync(process.execPath, ["-e", ""]).pid;
    await fs.mkdir(dataDir, { recursive: true });
    await fs.writeFile(path.join(dataDir, "server.lock"), String(deadPid));
    const db = await openDatabase({ dataDir, migrate: false });
    try {
      expect(await fs.readFile(path.join(dataDir, "server.lock"), "utf8")).toBe(String(process.pid));
    } finally {
      await db.close();
    }
  }, 120_000);

  it("takes over a lock naming its own pid that it does not hold (a restarted container)", async () => {
    const dataDir = path.join(tmp, "same-pid");
    await fs.mkdir(dataDir, { recursive: true });
    await fs.writeFile(path.join(dataDir, "server.lock"), String(process.pid));
    const db = await openDatabase({ dataDir, migrate: false });
    try {
      expect(await fs.readFile(path.join(dataDir, "server.lock"), "utf8")).toBe(String(process.pid));
      await expect(openDatabase({ dataDir, migrate: false })).rejects.toBeInstanceOf(EmbeddedDatabaseLockedError);
    } finally {
      await db.close();
    }
  }, 120_000);
});

describe("the test database", () => {
  const statements: string[] = [];
  let db: TDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ onQuery: (sql) => statements.push(sql) });
  });

  afterAll(async () => {
    await db?.close();
  });

  it("answers ping", async () => {
    await expect(db.ping()).resolves.toBeUndefined();
  });

  it("reports every statement sent through the pool", async () => {
    statements.length = 0;
    await db.prisma.user.findMany();
    await db.prisma.workspace.count();
    expect(statements).toHaveLength(2);
    expect(statements[0]).toContain('"users"');
    expect(statements[1]).toContain('"workspaces"');
  });

  it("keeps answering after a statement fails outside a transaction", async () => {
    // pg's pool drops a client whose query failed and connects anew: the embedded socket server
    // must accept the new connection while it is still tearing the old one down.
    for (let i = 0; i < 3; i++) {
      await expect(db.prisma.$queryRawUnsafe("SELECT 1/0")).rejects.toThrow(/division by zero/);
      await expect(db.prisma.$queryRawUnsafe<{ n: number }[]>("SELECT 41 + 1 AS n")).resolves.toEqual([{ n: 42 }]);
    }
  });

  it("is a database of its own", async () => {
    const other = await createTestDatabase();
    try {
      await other.prisma.workspace.create({ data: { id: "wsp_1", name: "Only here" } });
      expect(await db.prisma.workspace.count()).toBe(0);
    } finally {
      await other.close();
    }
  });
});

describe("ping", () => {
  it("rejects when the database is unreachable", async () => {
    const db = await openDatabase({ databaseUrl: "postgresql://postgres@127.0.0.1:1/none", migrate: false });
    try {
      await expect(db.ping()).rejects.toThrow();
    } finally {
      await db.close();
    }
  });
});

describe("a failed statement does not break the ingest (either backend)", () => {
  it("records again after a Prisma statement failed and the pool replaced its connection", async () => {
    const db = await createTestDatabase();
    try {
      const ws = await seedWorkspace(db.prisma);
      const record = (visitorId: string) =>
        ingestEvents(db, {
          workspaceId: ws.workspace.id,
          actor: { kind: "session", userId: ws.owner.id },
          body: ZRecordServerEventsBody.parse({ siteId: ws.site.id, events: [{ type: "signup", visitorId }] }),
        });
      expect((await record("v_before")).accepted).toBe(1);
      await expect(db.prisma.$queryRawUnsafe("SELECT * FROM no_such_table")).rejects.toThrow();
      // Embedded: PGlite's one session kept the statements the dropped connection had prepared.
      for (const visitorId of ["v_after_1", "v_after_2"]) expect((await record(visitorId)).accepted).toBe(1);
    } finally {
      await db.close();
    }
  });
});
