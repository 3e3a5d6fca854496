import { runSendEvents } from "./send-events-cli.ts";

/** `npm run send-events -- --file events.ndjson --workspace ws_… --site site_… --cookie "fse.sid=…"` (see --help). */
process.exitCode = await runSendEvents(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
