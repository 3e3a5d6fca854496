import { z } from "zod";
import { CURSOR_MESSAGE, DEFAULT_PAGE_SIZE, parseCursor } from "../../tracking/read-profiles.ts";
import type { TErrorExample } from "../meta.types.ts";

/** What every read procedure shares: its error responses, dates, and the page query and page shapes. */
export const READ_ERRORS = {
  400: "Invalid input",
  401: "No valid session",
  403: "Not a member of the workspace",
  404: "Not found",
  503: "Session store unavailable",
};

/** The 400 a paged read most likely answers: a `limit` out of bounds. */
export const INVALID_LIMIT_EXAMPLE: TErrorExample = {
  reason: "VALIDATION_FAILED",
  message: "Input validation failed",
  issues: [{ path: ["limit"], code: "too_big", message: "must be at most 200" }],
};

export const ZIsoDateTime = z.string().describe("ISO 8601 date-time.");

export const ZPageQuery = z.object({
  cursor: z
    .string()
    .max(200)
    .refine((c) => parseCursor(c) !== undefined, CURSOR_MESSAGE)
    .optional()
    .describe("`nextCursor` of the previous page."),
  // A preprocess pipe, not a bare z.number(): trpc-to-openapi switches coercion on for those (docs/trpc-openapi.md #2).
  limit: z
    .preprocess(
      (v) => (typeof v === "string" && /^\d{1,4}$/.test(v) ? Number(v) : v),
      z
        .number({ error: "must be a whole number from 1 to 200" })
        .int("must be a whole number")
        .min(1, "must be at least 1")
        .max(200, "must be at most 200"),
    )
    .optional()
    .describe(`Page size, 1–200 (default ${DEFAULT_PAGE_SIZE}).`),
});

/** One page of `item`, newest first; `nextCursor` is null on the last page. */
export function ZPageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}
