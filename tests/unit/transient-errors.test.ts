import pg from "pg";
import { describe, expect, it } from "vitest";
import { Prisma } from "../../generated/prisma/client.ts";
import { isTransientDatabaseError } from "../../server/db/transient-errors.ts";
import { DomainError } from "../../server/errors/domain-error.ts";

/** pg's own error class, as the driver raises it for an ErrorResponse with this SQLSTATE. */
const sqlstate = (code: string) =>
  Object.assign(new pg.DatabaseError("server said no", 0, "error"), { code, severity: "FATAL" });
const socketError = (code: string) =>
  Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, syscall: "connect", errno: -1 });
const prismaError = (code: string, meta?: Record<string, unknown>) =>
  new Prisma.PrismaClientKnownRequestError("failed", { code, clientVersion: "7", meta });

describe("isTransientDatabaseError", () => {
  it.each([
    ["admin shutdown (terminated backend)", sqlstate("57P01")],
    ["crash shutdown", sqlstate("57P02")],
    ["cannot connect now (starting up)", sqlstate("57P03")],
    ["too many connections", sqlstate("53300")],
    ["connection failure", sqlstate("08006")],
    ["refused", socketError("ECONNREFUSED")],
    ["reset", socketError("ECONNRESET")],
    ["pg: connection ended under a query", new Error("Connection terminated unexpectedly")],
    ["pg: query on a dead client", new Error("Client has encountered a connection error and is not queryable")],
    ["pg-pool: connect timeout", new Error("timeout exceeded when trying to connect")],
    ["pg: no answer within DATABASE_QUERY_TIMEOUT_MS", new Error("Query read timeout")],
    ["Prisma: server closed the connection", prismaError("P1017")],
    ["Prisma: pool timeout", prismaError("P2024")],
    ["Prisma: driver adapter error", prismaError("P2010", { driverAdapterError: { kind: "TooManyConnections" } })],
    ["wrapped in a cause", new Error("ingest failed", { cause: sqlstate("57P01") })],
  ])("%s is transient", (_label, err) => {
    expect(isTransientDatabaseError(err)).toBe(true);
  });

  it.each([
    ["unique violation", sqlstate("23505")],
    ["deadlock", sqlstate("40P01")],
    ["syntax error", sqlstate("42601")],
    ["Prisma: unique constraint", prismaError("P2002")],
    ["a plain bug", new TypeError("x is undefined")],
    ["a DomainError about Redis whose cause is a socket error", new DomainError("SERVICE_UNAVAILABLE", "redis", [], 5)],
    ["not an error", "ECONNRESET"],
  ])("%s is not", (_label, err) => {
    if (err instanceof DomainError) err.cause = socketError("ECONNRESET");
    expect(isTransientDatabaseError(err)).toBe(false);
  });
});
