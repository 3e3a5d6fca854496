import { z } from "zod";
import type { OpenApiMeta } from "trpc-to-openapi";
import { WORKSPACE_ROLES } from "../../db/enums.ts";

export const ZSessionUser = z
  .object({
    user: z.object({
      id: z
        .string()
        .describe("The user id; server events recorded by this session carry it as userId.")
        .meta({ example: "usr_01jd7x4k2m9q8r7s6t5v4w3x2y" }),
      email: z.string(),
      name: z.string().nullable(),
    }),
    workspaces: z
      .array(z.object({ id: z.string(), name: z.string(), role: z.enum(WORKSPACE_ROLES) }))
      .describe("Workspaces the user belongs to, with the role in each (VIEW_ONLY may read, not record)."),
  })
  .describe("The logged-in user and their workspaces.");

export type TSessionUser = z.infer<typeof ZSessionUser>;

export const meMeta: OpenApiMeta = {
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
