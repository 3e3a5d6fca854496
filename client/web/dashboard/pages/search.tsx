import { useEffect, useState } from "preact/hooks";
import { api, toApiError, type TApiError } from "../api.ts";
import { navigate, paths } from "../router.ts";
import { ErrorBox, Loading, PageTitle } from "../ui.tsx";

export type TSearchBy = "email" | "visitorId";

/** The header's search form: an email or a visitor id, in one workspace. */
export function SearchForm({ workspaceId }: { workspaceId: string }) {
  const [by, setBy] = useState<TSearchBy>("email");
  const [q, setQ] = useState("");
  const submit = (e: Event) => {
    e.preventDefault();
    if (q.trim()) navigate(paths.search(workspaceId, by, q.trim()));
  };
  return (
    <form class="search" role="search" onSubmit={submit}>
      <label for="search-by">Find a profile by</label>
      <select id="search-by" value={by} onChange={(e) => setBy(e.currentTarget.value as TSearchBy)}>
        <option value="email">Email</option>
        <option value="visitorId">Visitor id</option>
      </select>
      <label for="search-q" class="visually-hidden">
        {by === "email" ? "Email" : "Visitor id"}
      </label>
      <input id="search-q" type="search" value={q} required onInput={(e) => setQ(e.currentTarget.value)} />
      <button type="submit">Search</button>
    </form>
  );
}

/** Looks the identifier up (`profiles.lookup`) and opens the profile, or says none was found. */
export function SearchPage({ workspaceId, by, q }: { workspaceId: string; by: string; q: string }) {
  const [state, setState] = useState<{ error?: TApiError; none?: boolean }>({});
  useEffect(() => {
    setState({});
    const input = by === "visitorId" ? { workspaceId, visitorId: q } : { workspaceId, email: q };
    api.profiles.lookup.query(input).then(
      ({ profile }) =>
        profile ? navigate(paths.profile(workspaceId, profile.id), { replace: true }) : setState({ none: true }),
      (err: unknown) => setState({ error: toApiError(err) }),
    );
  }, [workspaceId, by, q]);
  return (
    <section>
      <PageTitle>Search</PageTitle>
      {state.error ? (
        <ErrorBox error={state.error} />
      ) : state.none ? (
        <p role="status">
          No profile in this workspace has the {by === "visitorId" ? "visitor id" : "email"} <strong>{q}</strong>.
        </p>
      ) : (
        <Loading what="the profile" />
      )}
    </section>
  );
}
