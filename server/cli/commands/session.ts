import { z } from "zod";
import { endSessions } from "../../auth/users.repo.ts";
import { defineCommand, ZCliEmail } from "../command.ts";
import { requireUser } from "./workspace.ts";

export const sessionRevoke = defineCommand({
  name: "session revoke",
  summary: "Log a user out everywhere: every session they have is refused from the next request on",
  usage: "session revoke --email <email>",
  options: { email: { required: true } },
  input: z.object({ email: ZCliEmail }),
  async run({ db }, input) {
    const user = await requireUser(db, input.email);
    const ended = await endSessions(db.prisma, user.id);
    return { text: ended.id, json: { id: ended.id, email: ended.email, sessionsEnded: true } };
  },
});
