import type { TConfig } from "../config.ts";
import { z } from "zod";
import type { TDatabase } from "../db/database.ts";

/** Wrong or missing arguments: exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The command was understood but cannot be done (unknown email, duplicate, …): exit code 1. */
export class CommandFailedError extends Error {
  override name = "CommandFailedError";
}

/** What a command prints: one line for people and scripts (usually the id), or an object with --json. */
export type TCommandResult = { text: string; json: Record<string, unknown> };

export type TCommandContext = {
  db: TDatabase;
  log: (line: string) => void;
  /** The secrets key of the configuration (read only by the commands that store secrets). */
  secrets: () => Promise<TConfig["secrets"]>;
};

/**
 * One admin command. `options` are its `--flags` (string-valued unless a switch); `input` validates them, so
 * a bad argument is refused before any database is opened.
 */
export type TCommand<TInput = unknown> = {
  name: string;
  summary: string;
  usage: string;
  /**
   * Flag name → whether it must be given (checked before `input`, for a plain "is required"), and
   * whether it is a switch taking no value (then `input` sees `true` when given).
   */
  options: Record<string, { required: boolean; switch?: true }>;
  input: z.ZodType<TInput>;
  /** The command applies the migrations itself, so the database is opened without applying them first. */
  migratesItself?: boolean;
  run(ctx: TCommandContext, input: TInput): Promise<TCommandResult>;
};

export function defineCommand<TInput>(command: TCommand<TInput>): TCommand<TInput> {
  return command;
}

/** Field schemas shared by the commands, with the limits of the matching database columns. */
export const ZCliEmail = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, "must be at most 254 characters")
  .pipe(z.email("must be an email address"));
export const ZCliPassword = z
  .string()
  .min(8, "must be at least 8 characters")
  .max(1024, "must be at most 1024 characters");
export const ZCliName = z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters");
export const ZCliId = z.string().trim().min(1, "must not be empty").max(40, "must be at most 40 characters");

/** A zod failure as one line naming the flag: `--email: must be an email address`. */
export function describeInputError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? `--${issue.path.join(".")}: ` : ""}${issue.message}`)
    .join("; ");
}

/** Prisma's unique-constraint violation (a racing duplicate). */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "P2002";
}
