import { Component, type ComponentChildren } from "preact";
import { toApiError } from "./api.ts";
import { paths } from "./routes.ts";
import { PageTitle } from "./ui.tsx";

/** No page of the app has this path. */
export function NotFoundPage() {
  return (
    <ErrorPage title="Page not found">
      <p>There is no dashboard page at this address.</p>
    </ErrorPage>
  );
}

/** The URL itself cannot be read (bad percent-encoding): nothing in it is trusted or shown. */
export function BadAddressPage({ part }: { part: "path" | "query" }) {
  return (
    <ErrorPage title="This address is not valid">
      <p role="alert">
        The {part === "path" ? "path" : "query string"} of this address has a malformed percent-encoded sequence (a{" "}
        <code>%</code> not followed by valid UTF-8 in hex), so it cannot be read. Check the link you followed.
      </p>
    </ErrorPage>
  );
}

/**
 * A page (or the shell) that throws while rendering shows an error page with the message instead
 * of a blank screen. The stack goes to the console only.
 */
export class ErrorBoundary extends Component<{ children: ComponentChildren }, { message?: string }> {
  override state: { message?: string } = {};
  override componentDidCatch(err: unknown) {
    console.error(err);
    this.setState({ message: toApiError(err).message });
  }
  override render() {
    if (this.state.message === undefined) return this.props.children;
    return (
      <ErrorPage title="Something went wrong">
        <p role="alert">
          This page failed to show: <strong>{this.state.message}</strong>
        </p>
      </ErrorPage>
    );
  }
}

function ErrorPage({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="error-page">
      <PageTitle>{title}</PageTitle>
      {children}
      <p>
        {/* A full load, not in-app navigation: the app's state may be what broke. */}
        <a href={paths.home()}>Go to your sites</a>
      </p>
    </section>
  );
}
