import { runSendEvents } from "./send-events-cli.ts";

// The first Ctrl-C stops the run cleanly (summary, logout); a second one kills it as usual.
const interrupt = new AbortController();
process.once("SIGINT", () => interrupt.abort());

/** `npm run send-events -- --help`: send an NDJSON file of events; `login` / `logout` keep a session. */
process.exitCode = await runSendEvents(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: interrupt.signal,
});
