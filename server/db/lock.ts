import fs from "node:fs/promises";
import path from "node:path";

/** Another live process (often a running server) has the embedded data folder open. */
export class EmbeddedDatabaseLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the embedded database in ${dataDir} is in use by process ${pid} (the server?). ` +
        `Stop it, or set DATABASE_URL to use PostgreSQL.`,
    );
    this.name = "EmbeddedDatabaseLockedError";
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Folders this process holds: a lock file naming our own pid is ours only if listed here. */
const heldHere = new Set<string>();

/**
 * Takes `<dataDir>/server.lock` (holding our pid) because two PGlite instances on one folder
 * corrupt it. A lock left by a dead process is taken over, and so is one naming our own pid that
 * this process does not hold (a container restarted with the same pid). Returns the release function.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = path.join(dataDir, "server.lock");
  const pid = String(process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fs.writeFile(file, pid, { flag: "wx" });
      heldHere.add(file);
      return async () => {
        heldHere.delete(file);
        const holder = await fs.readFile(file, "utf8").catch(() => null);
        if (holder === pid) await fs.rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number.parseInt(await fs.readFile(file, "utf8").catch(() => ""), 10);
    const ours = holder === process.pid;
    if (Number.isInteger(holder) && holder > 0 && (ours ? heldHere.has(file) : isAlive(holder)))
      throw new EmbeddedDatabaseLockedError(dataDir, holder);
    await fs.rm(file, { force: true });
  }
  throw new Error(`could not take the lock ${file}: it keeps changing hands`);
}
