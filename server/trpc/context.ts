import type { TDeps } from "../deps.ts";

/** The caller's session, abstracted from express-session so procedures run without HTTP. */
export type TSessionHandle = {
  readonly userId: string | null;
  /** The user's session generation when this session was created (0 for older sessions). */
  readonly generation: number;
  /**
   * A session cookie this server signed came with the request, but its session is gone (expired,
   * logged out or revoked): the caller was logged in and should be told so, not just "log in".
   */
  readonly ended: boolean;
  signIn(userId: string, generation: number): Promise<void>;
  signOut(): Promise<void>;
};

/** What one request brings: who, from where, and a way to set response headers. */
export type TRequestScope = {
  requestId: string;
  ip: string;
  session: TSessionHandle;
  setHeader(name: string, value: string): void;
};

/** The transport-free half of the context: tests call procedures through `createCaller` with it. */
export function createContextInner(deps: TDeps, scope: TRequestScope) {
  return { ...deps, ...scope, logger: deps.logger.child({ requestId: scope.requestId }) };
}

export type TContext = ReturnType<typeof createContextInner>;
