import { api } from "../api.ts";
import { paths } from "../router.ts";
import { Link } from "../ui.tsx";
import { useCall } from "../use-call.ts";

/** Which site the page is about, and its other page. */
export function SiteNav(props: { workspaceId: string; siteId: string; current: "events" | "install" }) {
  const { workspaceId, siteId, current } = props;
  const sites = useCall(workspaceId, () => api.sites.list.query({ workspaceId }));
  const site = sites.data?.items.find((s) => s.id === siteId);
  return (
    <nav class="site-nav" aria-label="Site">
      <span>
        Site: <strong>{site ? `${site.name} (${site.domain})` : siteId}</strong>
      </span>
      {current === "install" ? (
        <Link href={paths.events(workspaceId, siteId)}>Live events</Link>
      ) : (
        <Link href={paths.install(workspaceId, siteId)}>Install</Link>
      )}
      <Link href={paths.home()}>All sites</Link>
    </nav>
  );
}
