import { useState } from "preact/hooks";
import { api, toApiError, type TApiError } from "../api.ts";
import { identifyWithHmacCode, nodeHmacCode, pythonHmacCode } from "../identity-code.ts";
import { useCall } from "../use-call.ts";
import { ErrorBox, Loading } from "../ui.tsx";
import { CodeBlock } from "./code-block.tsx";

type TProps = { workspaceId: string; siteId: string; role: string | undefined };

/**
 * The Install page's "Identity verification" section: whether the site requires an HMAC of each
 * browser email, the server code computing it, and (for ADMINs) turning it on or off and rotating
 * the secret, which is shown once, right after it is created.
 */
export function IdentityVerificationSection({ workspaceId, siteId, role }: TProps) {
  const [version, setVersion] = useState(0);
  const sites = useCall(`${workspaceId}:${version}`, () => api.sites.list.query({ workspaceId }));
  const [secret, setSecret] = useState<string>();
  const [error, setError] = useState<TApiError>();
  const [busy, setBusy] = useState(false);
  const state = sites.data?.items.find((s) => s.id === siteId)?.identityVerification;
  const isAdmin = role === "ADMIN";

  const change = async (required: boolean, rotateSecret: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api.sites.setIdentityVerification.mutate({ workspaceId, siteId, required, rotateSecret });
      setSecret(answer.secret);
      setVersion((v) => v + 1);
    } catch (err) {
      setError(toApiError(err));
    }
    setBusy(false);
  };

  return (
    <section aria-labelledby="identity-verification">
      <h2 id="identity-verification">Identity verification</h2>
      <p>
        Without it, any page can call <code>funnelfizz("identify", email)</code> with any address and attach its visitor
        to that person's profile. With it, a browser email is recorded only with its HMAC, computed by your backend with
        this site's secret; other emails are left out of the event.
      </p>
      {sites.error && <ErrorBox error={sites.error} />}
      {sites.loading && !state && <Loading what="the site's settings" />}
      {state && (
        <p id="identity-status" role="status">
          {state.required
            ? "Required: browser emails without a valid emailHmac are not recorded."
            : "Not required: browser emails are recorded as sent."}
          {state.secretSet ? "" : " No secret has been created yet."}
        </p>
      )}
      {isAdmin && state && (
        <p>
          <button type="button" disabled={busy} onClick={() => void change(!state.required, false)}>
            {state.required ? "Stop requiring verification" : "Require verification"}
          </button>{" "}
          <button type="button" class="secondary" disabled={busy} onClick={() => void change(state.required, true)}>
            {state.secretSet ? "Rotate the secret" : "Create the secret"}
          </button>
        </p>
      )}
      {!isAdmin && <p class="muted">Only an ADMIN of the workspace may change this or see a new secret.</p>}
      {error && <ErrorBox error={error} />}
      {secret && (
        <>
          <p class="notice">
            The new secret, shown this once: store it on your server (for example as FUNNELFIZZ_IDENTITY_SECRET). HMACs
            made with an earlier secret no longer verify.
          </p>
          <CodeBlock id="identity-secret" label="Identity verification secret" code={secret} />
        </>
      )}
      <p>
        To roll it out without losing emails: create the secret, deploy the code below, then require verification.
        Compute the HMAC of the signed-in user's email on your server:
      </p>
      <CodeBlock id="identity-node" label="Node.js" code={nodeHmacCode()} />
      <CodeBlock id="identity-python" label="Python" code={pythonHmacCode()} />
      <p>and pass it to the snippet with the email:</p>
      <CodeBlock id="identity-identify" label="Identify with the HMAC" code={identifyWithHmacCode()} />
    </section>
  );
}
