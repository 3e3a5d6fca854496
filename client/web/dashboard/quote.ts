/**
 * Escaping for the text the Install page offers to copy: a value goes into HTML, JavaScript or a
 * shell command only through the helper for that context, so a hostile value stays one inert value.
 */

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** For a double- or single-quoted HTML attribute value (and text): `& < > " '` become entities. */
export function htmlAttr(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * A double-quoted JavaScript string literal, safe inside an inline `<script>` too: JSON's escapes
 * (quotes, backslashes, control characters) plus `<`, `>` and `&` as `\u` escapes (no `</script>`
 * or `<!--` can end the script) and U+2028/U+2029, which old engines took for line ends.
 */
export function jsString(text: string): string {
  return JSON.stringify(text).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** One POSIX shell word in single quotes: nothing inside is expanded (`$()`, backticks, `!`). */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
