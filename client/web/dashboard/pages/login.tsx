import { useState } from "preact/hooks";
import { api, toApiError, type TApiError, type TSessionUser } from "../api.ts";
import { ErrorBox, PageTitle } from "../ui.tsx";

/** Email and password against `auth.login`; a refusal shows the server's message and reason. */
export function LoginPage({ notice, onLoggedIn }: { notice?: string; onLoggedIn: (user: TSessionUser) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<TApiError>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onLoggedIn(await api.auth.login.mutate({ email, password }));
    } catch (err) {
      setError(toApiError(err));
      setBusy(false);
    }
  };

  return (
    <section class="narrow">
      <PageTitle>Log in</PageTitle>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {error && <ErrorBox error={error} />}
      <form onSubmit={(e) => void submit(e)}>
        <label for="login-email">Email</label>
        <input
          id="login-email"
          type="email"
          autocomplete="username"
          required
          value={email}
          onInput={(e) => setEmail(e.currentTarget.value)}
        />
        <label for="login-password">Password</label>
        <input
          id="login-password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
    </section>
  );
}
