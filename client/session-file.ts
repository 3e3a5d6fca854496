import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

type TFetch = typeof globalThis.fetch;

/** What `send-events login` keeps: the session cookie and the server it belongs to. */
export type TStoredSession = { baseUrl: string; cookie: string; email: string; savedAt: string };

/** `$XDG_CONFIG_HOME/funnel-server-events/session.json`, `~/.config/…` when XDG_CONFIG_HOME is unset. */
export function defaultCookieFile(env: Record<string, string | undefined>, home: string): string {
  return join(env.XDG_CONFIG_HOME?.trim() || join(home, ".config"), "funnel-server-events", "session.json");
}

/**
 * Writes the session readable by its owner only (0600, folder 0700): the cookie is as good as the
 * password for its lifetime. Written to a temporary file and renamed, so a reader never sees half.
 */
export async function saveSession(file: string, session: TStoredSession): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

/** The stored session, or null when there is no file. */
export async function loadSession(file: string): Promise<TStoredSession | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  const session = JSON.parse(text) as Partial<TStoredSession>;
  if (typeof session.cookie !== "string" || typeof session.baseUrl !== "string") {
    throw new Error(`${file} is not a session file written by send-events login`);
  }
  return session as TStoredSession;
}

export async function deleteSession(file: string): Promise<void> {
  await rm(file, { force: true });
}

/** `POST /api/auth/login`; returns the cookies the server set, as a `Cookie` header value. */
export async function logIn(
  fetch: TFetch,
  baseUrl: string,
  email: string,
  password: string,
): Promise<{ cookie: string } | { error: string }> {
  const response = await post(fetch, `${baseUrl}/api/auth/login`, { email, password });
  if ("error" in response) return response;
  if (!response.ok) return { error: await describe(response) };
  const cookie = response.headers
    .getSetCookie()
    .map((line) => line.split(";", 1)[0])
    .join("; ");
  return cookie ? { cookie } : { error: "the server set no session cookie" };
}

/** `POST /api/auth/logout`: destroys the session server-side (harmless when it is already gone). */
export async function logOut(
  fetch: TFetch,
  baseUrl: string,
  cookie: string,
): Promise<{ ok: true } | { error: string }> {
  const response = await post(fetch, `${baseUrl}/api/auth/logout`, {}, cookie);
  if ("error" in response) return response;
  return response.ok ? { ok: true } : { error: await describe(response) };
}

async function post(fetch: TFetch, url: string, body: unknown, cookie?: string): Promise<Response | { error: string }> {
  try {
    return await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...(cookie ? { cookie } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    return { error: unreachable(new URL(url).origin, error) };
  }
}

async function describe(response: Response): Promise<string> {
  const body = (await response.json().catch(() => null)) as { message?: string } | null;
  return `HTTP ${response.status}: ${body?.message ?? response.statusText}`;
}

/** A connection failure, with the way to point the CLI at the right server. */
export function unreachable(origin: string, error: unknown): string {
  return (
    `cannot reach ${origin}: ${(error as Error).message}; is the server running there? ` +
    "Give its address with --base-url <url> (or FSE_BASE_URL)"
  );
}
