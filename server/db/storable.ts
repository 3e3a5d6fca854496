import { z } from "zod";

/**
 * What PostgreSQL can store exactly as sent. A NUL character is refused by text and jsonb columns
 * alike (an error, so a 500 if it got that far); an unpaired UTF-16 surrogate is refused by jsonb
 * and silently turned into U+FFFD by text columns. Both are rejected at the edge instead.
 */
const NUL = "\u0000";
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const UNSTORABLE_TEXT_MESSAGE = "must not contain NUL characters or unpaired UTF-16 surrogates";

export function isStorableText(s: string): boolean {
  return !s.includes(NUL) && !LONE_SURROGATE.test(s);
}

/** An id or name used in a query: 1..max characters, storable. */
export const ZStorableId = (max: number) =>
  z
    .string()
    .min(1, "must not be empty")
    .max(max, `must be at most ${max} characters`)
    .refine(isStorableText, UNSTORABLE_TEXT_MESSAGE);

/**
 * Earliest instant accepted for an event (the product did not exist before; older dates are typos
 * or a broken clock).
 */
export const EARLIEST_EVENT_TIME = Date.parse("2000-01-01T00:00:00.000Z");
