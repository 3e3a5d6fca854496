import { z } from "zod";
import { isStorableText, UNSTORABLE_TEXT_MESSAGE } from "../../db/storable.ts";
import { ZSessionUser } from "../shared/session-user.types.ts";
import type { TProcedureMeta } from "../meta.types.ts";
import { CROSS_SITE_EXAMPLE } from "../shared/examples.types.ts";

/** Strict like every request body: an unknown key is a 400, not silently ignored. */
export const ZLoginInput = z.strictObject({
  email: z
    .string()
    .trim()
    .max(254)
    .refine(isStorableText, UNSTORABLE_TEXT_MESSAGE)
    .describe("The account's email.")
    .meta({ example: "demo@example.com" }),
  password: z
    .string()
    .min(1)
    .max(1024)
    .refine(isStorableText, UNSTORABLE_TEXT_MESSAGE)
    .describe("The account's password.")
    .meta({ example: "correct horse battery staple" }),
});

export const loginMeta: TProcedureMeta = {
  openapi: {
    method: "POST",
    path: "/auth/login",
    tags: ["auth"],
    protect: false,
    summary: "Log in",
    description:
      "Checks email and password and starts a new session " +
      "(a fresh session id, set as an HttpOnly SameSite=Lax cookie). " +
      "Failed attempts are throttled per client IP and per email and address, never locking the account out: " +
      "over the budget the answer is 429 with Retry-After.",
    errorResponses: {
      400: "Invalid input",
      401: "Wrong email or password",
      403: "Cross-site request refused",
      415: "Body is not JSON",
      429: "Too many failed logins",
      503: "Session store unavailable",
    },
  },
  examples: {
    request: { email: "demo@example.com", password: "the password printed at first start" } satisfies z.input<
      typeof ZLoginInput
    >,
    errors: {
      400: {
        reason: "VALIDATION_FAILED",
        message: "Input validation failed",
        issues: [
          { path: ["password"], code: "too_small", message: "Too small: expected string to have >=1 characters" },
        ],
      },
      401: { reason: "INVALID_CREDENTIALS", message: "Email or password is incorrect", issues: [] },
      403: CROSS_SITE_EXAMPLE,
    },
  },
};

export const ZLoginOutput = ZSessionUser;

export type TLoginInput = z.infer<typeof ZLoginInput>;
export type TLoginOutput = z.infer<typeof ZLoginOutput>;
