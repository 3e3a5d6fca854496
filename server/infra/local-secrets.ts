import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { ConfigError, type TConfig } from "../config.ts";

/** The secrets a development or embedded server keeps beside its data when none are configured. */
type TLocalSecrets = { sessionSecret: string; secretsKey: string };

const FILE = "secrets.json";

/**
 * On the embedded database (no DATABASE_URL) outside production, the session secret and the
 * secrets key the configuration leaves unset are generated once and kept beside the data, in
 * `<DATA_DIR>/secrets.json` (mode 0600), so a restart keeps logins
 * valid and Stripe signing secrets readable, and the admin CLI encrypts with the same key as the
 * server. A configured value always wins; production requires both explicitly (loadConfig).
 */
export async function withLocalSecrets(config: TConfig): Promise<TConfig> {
  const needed = !config.session.secretConfigured || !config.secrets.keyConfigured;
  const dataDir = config.database.dataDir;
  if (config.production || config.database.url || !needed || dataDir.startsWith("memory://")) return config;
  const file = path.resolve(dataDir, FILE);
  const local = await readOrCreate(file);
  return {
    ...config,
    localSecretsFile: file,
    session: config.session.secretConfigured ? config.session : { ...config.session, secret: local.sessionSecret },
    secrets: config.secrets.keyConfigured
      ? config.secrets
      : { ...config.secrets, key: Buffer.from(local.secretsKey, "hex"), keptIn: file },
  };
}

async function readOrCreate(file: string): Promise<TLocalSecrets> {
  const existing = await read(file);
  if (existing) return existing;
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const fresh: TLocalSecrets = {
    sessionSecret: randomBytes(32).toString("hex"),
    secretsKey: randomBytes(32).toString("hex"),
  };
  try {
    await fs.writeFile(file, `${JSON.stringify(fresh, null, 2)}\n`, { flag: "wx", mode: 0o600 });
    return fresh;
  } catch (error) {
    // Another process (the admin CLI, a second start) wrote it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const written = await read(file);
    if (!written) throw new ConfigError(`${file} is not readable`);
    return written;
  }
}

async function read(file: string): Promise<TLocalSecrets | null> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  let parsed: Partial<TLocalSecrets> = {};
  try {
    parsed = JSON.parse(text) as Partial<TLocalSecrets>;
  } catch {
    // reported below
  }
  const valid = (v: unknown) => typeof v === "string" && /^[0-9a-f]{64}$/.test(v);
  if (!valid(parsed.sessionSecret) || !valid(parsed.secretsKey)) {
    throw new ConfigError(
      `${file} is damaged (it must hold sessionSecret and secretsKey, 64 hex digits each): ` +
        "restore it, or delete it to generate new ones (logins and stored Stripe secrets are then lost)",
    );
  }
  return parsed as TLocalSecrets;
}
