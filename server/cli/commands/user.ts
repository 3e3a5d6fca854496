import { z } from "zod";
import { hashPassword } from "../../auth/passwords.ts";
import { createUser, findUserByEmail, updatePasswordHash } from "../../auth/users.repo.ts";
import { CommandFailedError, defineCommand, isUniqueViolation, ZCliEmail, ZCliName, ZCliPassword } from "../command.ts";

export const userCreate = defineCommand({
  name: "user create",
  summary: "Create a user who can log in",
  usage: "user create --email <email> --password <password> [--name <name>]",
  options: { email: { required: true }, password: { required: true }, name: { required: false } },
  input: z.object({ email: ZCliEmail, password: ZCliPassword, name: ZCliName.optional() }),
  async run({ db }, input) {
    if (await findUserByEmail(db, input.email))
      throw new CommandFailedError(`a user with email ${input.email} already exists`);
    try {
      const user = await createUser(db.prisma, {
        email: input.email,
        name: input.name,
        passwordHash: await hashPassword(input.password),
      });
      return { text: user.id, json: user };
    } catch (error) {
      if (isUniqueViolation(error)) throw new CommandFailedError(`a user with email ${input.email} already exists`);
      throw error;
    }
  },
});

export const userPassword = defineCommand({
  name: "user password",
  summary: "Set a new password for a user; ends all their sessions",
  usage: "user password --email <email> --password <new password>",
  options: { email: { required: true }, password: { required: true } },
  input: z.object({ email: ZCliEmail, password: ZCliPassword }),
  async run({ db }, input) {
    const user = await findUserByEmail(db, input.email);
    if (!user) throw new CommandFailedError(`no user with email ${input.email}`);
    const updated = await updatePasswordHash(db.prisma, user.id, await hashPassword(input.password));
    return { text: updated.id, json: { ...updated, passwordChanged: true } };
  },
});
