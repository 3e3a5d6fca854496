import { buildWeb } from "../../client/build-web.ts";

/** Builds the browser assets once per run, as `npm start` does, so tests serve what users get. */
export default async function setup(): Promise<void> {
  await buildWeb();
}
