import { describe, expect, it } from "vitest";
import { matchRoute, paths } from "../../client/web/dashboard/routes.ts";

describe("dashboard routes, decoded defensively", () => {
  it("bad percent-encoding in the path or the query is a bad address, not an exception", () => {
    for (const path of ["/app/w/%E0%A4%A/search", "/app/w/ws_1/profiles/%", "/app/%ED%A0%80", "/app/nothing%zz"])
      expect(matchRoute(path, ""), path).toEqual({ page: "badAddress", part: "path" });
    for (const search of ["?by=email&q=%E0%A4%A", "?q=%", "?%zz=1", "?q=a+%C3"])
      expect(matchRoute("/app/w/ws_1/search", search), search).toEqual({ page: "badAddress", part: "query" });
  });

  it("well-formed addresses route with their segments decoded; unknown ones are not found", () => {
    expect(matchRoute("/app/w/ws_1/search", "?by=email&q=a%40b.test+x")).toEqual({
      page: "search",
      workspaceId: "ws_1",
    });
    expect(matchRoute("/app/w/w%C3%A9/sites/s%2F1/install")).toEqual({
      page: "install",
      workspaceId: "wé",
      siteId: "s/1",
    });
    expect(matchRoute(paths.events("ws 1", "site?1"))).toEqual({
      page: "events",
      workspaceId: "ws 1",
      siteId: "site?1",
    });
    expect(matchRoute("/app/w/ws_1/nothing")).toEqual({ page: "notFound" });
    expect(matchRoute("/app/")).toEqual({ page: "home" });
  });
});
