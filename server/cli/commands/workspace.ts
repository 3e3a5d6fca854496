import { z } from "zod";
import type { TDatabase } from "../../db/database.ts";
import { WORKSPACE_ROLES } from "../../db/enums.ts";
import { findUserByEmail } from "../../auth/users.repo.ts";
import { changeMembership, createWorkspace, findWorkspace } from "../../workspaces/workspaces.repo.ts";
import { CommandFailedError, defineCommand, ZCliEmail, ZCliId, ZCliName } from "../command.ts";

export const workspaceCreate = defineCommand({
  name: "workspace create",
  summary: "Create a workspace with its default funnel; the owner becomes ADMIN",
  usage: "workspace create --name <name> --owner <email>",
  options: { name: { required: true }, owner: { required: true } },
  input: z.object({ name: ZCliName, owner: ZCliEmail }),
  async run({ db }, input) {
    const owner = await requireUser(db, input.owner);
    const { workspace, defaultFunnel } = await createWorkspace(db.prisma, { name: input.name, ownerId: owner.id });
    return {
      text: workspace.id,
      json: { id: workspace.id, name: workspace.name, ownerId: owner.id, defaultFunnelId: defaultFunnel.id },
    };
  },
});

export const memberAdd = defineCommand({
  name: "member add",
  summary: "Add a user to a workspace, or change their role",
  usage: `member add --workspace <id> --email <email> --role ${WORKSPACE_ROLES.join("|")}`,
  options: { workspace: { required: true }, email: { required: true }, role: { required: true } },
  input: z.object({
    workspace: ZCliId,
    email: ZCliEmail,
    role: z
      .string()
      .trim()
      .toUpperCase()
      .pipe(
        z.enum(WORKSPACE_ROLES, {
          error: `must be ${WORKSPACE_ROLES.slice(0, -1).join(", ")} or ${WORKSPACE_ROLES.at(-1)}`,
        }),
      ),
  }),
  async run({ db }, input) {
    await requireWorkspace(db, input.workspace);
    const user = await requireUser(db, input.email);
    const change = await changeMembership(db.prisma, {
      workspaceId: input.workspace,
      userId: user.id,
      role: input.role,
    });
    if (change.outcome !== "changed") throw lastAdminError(user.email, input.workspace);
    const { previousRole } = change;
    return {
      text: user.id,
      json: { workspaceId: input.workspace, userId: user.id, email: user.email, role: input.role, previousRole },
    };
  },
});

export const memberRemove = defineCommand({
  name: "member remove",
  summary: "Remove a user from a workspace (refused for its last ADMIN)",
  usage: "member remove --workspace <id> --email <email>",
  options: { workspace: { required: true }, email: { required: true } },
  input: z.object({ workspace: ZCliId, email: ZCliEmail }),
  async run({ db }, input) {
    await requireWorkspace(db, input.workspace);
    const user = await requireUser(db, input.email);
    const change = await changeMembership(db.prisma, { workspaceId: input.workspace, userId: user.id, role: null });
    if (change.outcome === "not-a-member") {
      throw new CommandFailedError(`${user.email} is not a member of workspace ${input.workspace}`);
    }
    if (change.outcome === "last-admin") throw lastAdminError(user.email, input.workspace);
    return {
      text: user.id,
      json: { workspaceId: input.workspace, userId: user.id, email: user.email, removedRole: change.previousRole },
    };
  },
});

/** A workspace without an ADMIN could only be managed through psql again. */
function lastAdminError(email: string, workspaceId: string) {
  return new CommandFailedError(
    `${email} is the last ADMIN of workspace ${workspaceId}: make another member ADMIN first`,
  );
}

export async function requireUser(db: TDatabase, email: string) {
  const user = await findUserByEmail(db, email);
  if (!user)
    throw new CommandFailedError(
      `no user with email ${email} (create it with: user create --email ${email} --password …)`,
    );
  return user;
}

export async function requireWorkspace(db: TDatabase, id: string) {
  const workspace = await findWorkspace(db.prisma, id);
  if (!workspace) throw new CommandFailedError(`no workspace with id ${id}`);
  return workspace;
}
