import { z } from "zod";
import { ZSessionUser } from "../shared/session-user.types.ts";
import type { TProcedureMeta } from "../meta.types.ts";

export const meMeta: TProcedureMeta = {
  openapi: {
    method: "GET",
    path: "/auth/me",
    tags: ["auth"],
    summary: "Who am I",
    description: "The session's user and their workspaces with roles.",
    protect: true,
    errorResponses: { 401: "No valid session", 503: "Session store unavailable" },
  },
};

export const ZMeInput = z.object({});
export const ZMeOutput = ZSessionUser;

export type TMeInput = z.infer<typeof ZMeInput>;
export type TMeOutput = z.infer<typeof ZMeOutput>;
