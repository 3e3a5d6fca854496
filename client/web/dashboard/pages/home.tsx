import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { paths } from "../router.ts";
import { useSession } from "../session.ts";
import { ErrorBox, Link, Loading, PageTitle, TableHead } from "../ui.tsx";
import { useCall } from "../use-call.ts";

/** Pick a workspace, then one of its tracking sites: its live events or its install page. */
export function HomePage() {
  const session = useSession();
  const [workspaceId, setWorkspaceId] = useState(session.workspaces[0]?.id ?? "");

  return (
    <section>
      <PageTitle>Workspaces and sites</PageTitle>
      {session.workspaces.length === 0 ? (
        <p>You are not a member of any workspace yet. An admin can add you with the admin CLI.</p>
      ) : (
        <>
          <label for="workspace-select">Workspace</label>
          <select id="workspace-select" value={workspaceId} onChange={(e) => setWorkspaceId(e.currentTarget.value)}>
            {session.workspaces.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name} ({w.role})
              </option>
            ))}
          </select>
          {workspaceId && <SiteList workspaceId={workspaceId} />}
        </>
      )}
    </section>
  );
}

function SiteList({ workspaceId }: { workspaceId: string }) {
  const sites = useCall(workspaceId, () => api.sites.list.query({ workspaceId }));
  if (sites.loading) return <Loading what="sites" />;
  if (sites.error) return <ErrorBox error={sites.error} />;
  const items = sites.data?.items ?? [];
  return (
    <>
      <h2>Sites</h2>
      {items.length === 0 ? (
        <p>This workspace has no tracking site yet (admin CLI: site create).</p>
      ) : (
        <table>
          <TableHead caption="Tracking sites of the workspace" columns={["Site", "Domain", "Id", "Pages"]} />
          <tbody>
            {items.map((site) => (
              <tr key={site.id}>
                <th scope="row">{site.name}</th>
                <td>{site.domain}</td>
                <td>
                  <code>{site.id}</code>
                </td>
                <td class="actions">
                  <Link href={paths.events(workspaceId, site.id)} label={`Live events of ${site.name}`}>
                    Live events
                  </Link>
                  <Link href={paths.install(workspaceId, site.id)} label={`Install on ${site.name}`}>
                    Install
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
