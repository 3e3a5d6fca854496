import { runAdmin } from "./run-admin.ts";

/** `npm run admin -- <command>` for operators; see `npm run admin -- help`. */
process.exitCode = await runAdmin(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
