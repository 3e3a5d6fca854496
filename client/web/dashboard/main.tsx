import { render } from "preact";
import { App } from "./app.tsx";
import { ErrorBoundary } from "./error-pages.tsx";
import "./styles.css";

// The outer boundary catches what the shell itself throws; each page has its own inside the shell.
render(
  <ErrorBoundary>
    <App />
  </ErrorBoundary>,
  document.getElementById("root")!,
);
