import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { TSessionUser } from "./api.ts";

/** The logged-in user and their workspaces (with the role in each), as `auth.me` answered. */
export const SessionContext = createContext<TSessionUser | null>(null);

export function useSession(): TSessionUser {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a logged-in page");
  return session;
}

export function roleIn(session: TSessionUser, workspaceId: string) {
  return session.workspaces.find((w) => w.id === workspaceId)?.role;
}
