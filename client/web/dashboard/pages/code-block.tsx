import { useState } from "preact/hooks";

/** A block of install code with its label and a Copy button. */
export function CodeBlock({ id, label, code }: { id: string; label: string; code: string }) {
  const [copied, setCopied] = useState<string>();
  // The clipboard API needs a secure context (HTTPS or localhost); elsewhere the text is selected for Ctrl+C.
  const copy = () =>
    navigator.clipboard.writeText(code).then(
      () => setCopied("Copied"),
      () => {
        const element = document.getElementById(id);
        if (element) getSelection()?.selectAllChildren(element);
        setCopied("Selected: press Ctrl+C to copy");
      },
    );
  return (
    <figure class="code">
      <figcaption id={`${id}-label`}>{label}</figcaption>
      <pre aria-labelledby={`${id}-label`} tabIndex={0}>
        <code id={id}>{code}</code>
      </pre>
      <button type="button" class="secondary" onClick={() => void copy()} aria-describedby={`${id}-label`}>
        Copy
      </button>
      <span class="muted" role="status">
        {copied ? ` ${copied}` : ""}
      </span>
    </figure>
  );
}
