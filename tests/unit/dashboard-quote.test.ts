import { spawnSync } from "node:child_process";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { asValidId } from "../../client/web/dashboard/ids.ts";
import { loginCurl, recordCurl, snippetTag } from "../../client/web/dashboard/install-code.ts";
import { htmlAttr, jsString, shellQuote } from "../../client/web/dashboard/quote.ts";

const HOSTILE = [
  `x"></script><script src="https://evil.test/x.js"></script><script x="`,
  `it's 'quoted'`,
  "`id` and $(touch /tmp/fse-pwned) and ${HOME}",
  "line one\nline two\r\n\u2028\u2029 tab\t",
  `back\\slash <!-- & &amp; -->`,
];

/** What `sh` makes of a command: each argument `curl` would get, one per line, nothing run. */
function shellArgs(command: string): string[] {
  const shown = spawnSync("sh", ["-c", `curl() { for a in "$@"; do printf '%s\\0' "$a"; done; }\n${command}`], {
    encoding: "utf8",
  });
  expect(shown.stderr).toBe("");
  return shown.stdout.split("\0").slice(0, -1);
}

const decodeEntities = (s: string) =>
  s.replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: "<", gt: ">", quot: '"', "#39": "'", amp: "&" })[e]!);

describe("escaping for copied code", () => {
  it.each(HOSTILE)("htmlAttr leaves no character that ends an attribute or starts a tag: %j", (text) => {
    const escaped = htmlAttr(text);
    expect(escaped).not.toMatch(/[<>"']/);
    expect(decodeEntities(escaped)).toBe(text);
  });

  it.each(HOSTILE)("jsString is one string literal, inert inside <script>: %j", (text) => {
    const literal = jsString(text);
    expect(literal).not.toMatch(/[<>\n\r\u2028\u2029]/);
    expect(literal.toLowerCase()).not.toContain("</script");
    // Parsed and evaluated as JavaScript, it is exactly the text.
    const value: unknown = runInNewContext(`(${literal})`);
    expect(value).toBe(text);
  });

  it.each(HOSTILE)("shellQuote is one word the shell does not expand: %j", (text) => {
    expect(shellArgs(`curl ${shellQuote(text)} after`)).toEqual([text, "after"]);
  });
});

describe("install code from hostile values", () => {
  it("ids outside the id format are refused; the server's own ids pass", () => {
    for (const text of [
      ...HOSTILE,
      "",
      "site_",
      "SITE_01HX0000000000000000000000",
      "ws_not_mine",
      "a_" + "0".repeat(27),
    ])
      expect(asValidId(text), text).toBeUndefined();
    expect(asValidId("site_01jd7x4k2m9q8r7s6t5v4w3x2y")).toBe("site_01jd7x4k2m9q8r7s6t5v4w3x2y");
  });

  it("the snippet tag escapes the origin and site id for the attribute", () => {
    const siteId = asValidId("site_01jd7x4k2m9q8r7s6t5v4w3x2y")!;
    expect(snippetTag("https://a.test", siteId)).toBe(
      `<script async src="https://a.test/fz.js" data-site="site_01jd7x4k2m9q8r7s6t5v4w3x2y"></script>`,
    );
    const tag = snippetTag(HOSTILE[0]!, siteId);
    expect(tag.match(/<script/g)).toHaveLength(1);
    expect(tag).not.toContain(`"https://evil.test`);
  });

  it("the curl commands reach curl as the intended arguments, whatever the email and origin", () => {
    const [workspaceId, siteId] = [
      asValidId("ws_01jd7x4k2m9q8r7s6t5v4w3x2y")!,
      asValidId("site_01jd7x4k2m9q8r7s6t5v4w3x2y")!,
    ];
    for (const hostile of HOSTILE) {
      const login = shellArgs(loginCurl(`https://a.test${hostile}`, hostile));
      expect(login.slice(0, 5)).toEqual(["-c", "cookies.txt", "-H", "Content-Type: application/json", "-d"]);
      expect(JSON.parse(login[5]!)).toEqual({ email: hostile, password: "<password>" });
      expect(login.slice(6)).toEqual([`https://a.test${hostile}/api/auth/login`]);

      const record = shellArgs(recordCurl(`https://a.test${hostile}`, workspaceId, siteId));
      expect(JSON.parse(record[5]!)).toMatchObject({ siteId });
      expect(record.slice(6)).toEqual([
        `https://a.test${hostile}/api/tracking/server-events?workspaceId=${workspaceId}`,
      ]);
    }
  });
});
