import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, toApiError, whenSessionEnds, type TApiError, type TSessionUser } from "./api.ts";
import { BadAddressPage, ErrorBoundary, NotFoundPage } from "./error-pages.tsx";
import { EventsPage } from "./pages/events.tsx";
import { HomePage } from "./pages/home.tsx";
import { InstallPage } from "./pages/install.tsx";
import { LoginPage } from "./pages/login.tsx";
import { ProfilePage } from "./pages/profile.tsx";
import { SearchForm, SearchPage } from "./pages/search.tsx";
import { matchRoute, navigate, paths, useLocation, type TRoute } from "./router.ts";
import { SessionContext } from "./session.ts";
import { ErrorBox, Link, Loading } from "./ui.tsx";

/**
 * The shell: who is logged in (`auth.me` once at start), the header, and the page for the URL.
 * Any 401 after that (expired or revoked session) sends the user to log in, then back.
 */
export function App() {
  const { path, search, query } = useLocation();
  const [session, setSession] = useState<TSessionUser | null | undefined>(undefined);
  const [notice, setNotice] = useState<string>();
  const [startError, setStartError] = useState<TApiError>();
  const route = matchRoute(path, search);

  useEffect(() => {
    whenSessionEnds(() => {
      setSession(null);
      setNotice("Your session has ended. Log in again to continue.");
      navigate(paths.login(location.pathname + location.search), { replace: true });
    });
    api.auth.me.query({}).then(setSession, (err: unknown) => {
      const error = toApiError(err);
      if (error.status === 401) setSession(null);
      else setStartError(error);
    });
  }, []);

  useEffect(() => {
    if (session === null && route.page !== "login")
      navigate(paths.login(path === paths.home() ? undefined : path + location.search), { replace: true });
    if (session && route.page === "login") navigate(safeNext(query.get("next")), { replace: true });
  }, [session, route.page]);

  if (startError) return <Shell>{<ErrorBox error={startError} />}</Shell>;
  if (session === undefined) return <Shell>{<Loading what="your session" />}</Shell>;
  if (!session || route.page === "login") {
    const onLoggedIn = (user: TSessionUser) => {
      setNotice(undefined);
      setSession(user);
    };
    return (
      <Shell>
        <LoginPage notice={notice} onLoggedIn={onLoggedIn} />
      </Shell>
    );
  }

  const logout = async () => {
    await api.auth.logout.mutate({}).catch(() => undefined);
    setNotice("You are logged out.");
    navigate(paths.login());
    setSession(null);
  };
  return (
    <SessionContext.Provider value={session}>
      <Shell
        header={
          <>
            {"workspaceId" in route && <SearchForm workspaceId={route.workspaceId} />}
            <span class="who">{session.user.email}</span>
            <button type="button" class="secondary" onClick={() => void logout()}>
              Log out
            </button>
          </>
        }
      >
        <ErrorBoundary key={path}>
          <Page route={route} query={query} />
        </ErrorBoundary>
      </Shell>
    </SessionContext.Provider>
  );
}

/** Only a path inside the app, so a crafted `?next=` cannot send anyone elsewhere. */
function safeNext(next: string | null): string {
  return next && /^\/app\/(?!\/)/.test(next) && !next.startsWith("/app/login") ? next : paths.home();
}

function Page({ route, query }: { route: TRoute; query: URLSearchParams }) {
  switch (route.page) {
    case "home":
      return <HomePage />;
    case "events":
      return <EventsPage key={route.siteId} workspaceId={route.workspaceId} siteId={route.siteId} />;
    case "install":
      return <InstallPage workspaceId={route.workspaceId} siteId={route.siteId} />;
    case "profile":
      return <ProfilePage workspaceId={route.workspaceId} profileId={route.profileId} />;
    case "search":
      return <SearchPage workspaceId={route.workspaceId} by={query.get("by") ?? "email"} q={query.get("q") ?? ""} />;
    case "badAddress":
      return <BadAddressPage part={route.part} />;
    case "login":
    case "notFound":
      return <NotFoundPage />;
  }
}

function Shell({ header, children }: { header?: ComponentChildren; children: ComponentChildren }) {
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href={paths.home()} class="brand">
          Funnel dashboard
        </Link>
        <div class="top-tools">{header}</div>
      </header>
      <main id="main">{children}</main>
    </>
  );
}
