import { z } from "zod";
import { WORKSPACE_ROLES } from "../../db/enums.ts";

/** What `auth.login` and `auth.me` answer: the session's user and their workspaces. */
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
