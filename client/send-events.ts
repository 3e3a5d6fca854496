import { runSendEvents } from "./send-events-cli.ts";

/** `npm run send-events -- --help`: send an NDJSON file of events; `login` / `logout` keep a session. */
process.exitCode = await runSendEvents(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
