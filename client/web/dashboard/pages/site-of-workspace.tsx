import { api, type TApiError, type TSite } from "../api.ts";
import { asValidId, type TValidId } from "../ids.ts";
import { paths } from "../routes.ts";
import { ErrorBox, Link, PageTitle } from "../ui.tsx";
import { useCall } from "../use-call.ts";

export type TSiteOfWorkspace =
  | { state: "loading" }
  | { state: "missing"; error?: TApiError }
  | { state: "failed"; error: TApiError }
  | { state: "found"; site: TSite; workspaceId: TValidId; siteId: TValidId };

/**
 * The URL's site, if it is one of the URL's workspace (`sites.list`, as the API answers it to this
 * user): ids that are not in the id format are not even asked about.
 */
export function useSiteOfWorkspace(workspaceIdText: string, siteIdText: string): TSiteOfWorkspace {
  const workspaceId = asValidId(workspaceIdText);
  const siteId = asValidId(siteIdText);
  const sites = useCall(`${workspaceIdText}\n${siteIdText}`, () =>
    workspaceId && siteId ? api.sites.list.query({ workspaceId }) : Promise.resolve({ items: [] }),
  );
  if (!workspaceId || !siteId) return { state: "missing" };
  if (sites.loading) return { state: "loading" };
  // Not a member (403) or no such workspace (404) is a site not found; anything else is the error itself.
  if (sites.error)
    return sites.error.status === 403 || sites.error.status === 404
      ? { state: "missing", error: sites.error }
      : { state: "failed", error: sites.error };
  const site = sites.data?.items.find((s) => s.id === siteId);
  return site ? { state: "found", site, workspaceId, siteId } : { state: "missing" };
}

/** The URL names no site of this workspace (or the workspace is not the user's): nothing of it is shown. */
export function SiteNotFound({ error }: { error?: TApiError }) {
  return (
    <section>
      <PageTitle>No such site in this workspace</PageTitle>
      <p>
        The address does not name a tracking site of a workspace you belong to.{" "}
        <Link href={paths.home()}>Go to your sites</Link>.
      </p>
      {error && <ErrorBox error={error} />}
    </section>
  );
}
