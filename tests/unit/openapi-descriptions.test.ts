import { describe, expect, it } from "vitest";
import { buildOpenApiDocument, describeLimit } from "../../server/http/openapi.ts";
import { describeStageRules } from "../../server/tracking/stages.ts";
import { appRouter } from "../../server/trpc/router.ts";

type TOperation = { description?: string; requestBody?: { content: Record<string, { schema: unknown }> } };

function serverEventsOperation(limit: { points: number; durationSeconds: number }): TOperation {
  const doc = buildOpenApiDocument(appRouter, { baseUrl: "/api", cookieName: "fse.sid", serverEventsLimit: limit });
  return (doc.paths?.["/tracking/server-events"] as { post: TOperation }).post;
}

describe("descriptions follow the configuration and the rule tables", () => {
  it.each([
    [{ points: 600, durationSeconds: 3600 }, "600 per hour"],
    [{ points: 42, durationSeconds: 60 }, "42 per minute"],
    [{ points: 100, durationSeconds: 300 }, "100 per 5 minutes"],
    [{ points: 10, durationSeconds: 90 }, "10 per 90 seconds"],
    [{ points: 5000, durationSeconds: 172_800 }, "5000 per 2 days"],
  ])("the rate limit %o reads %s", (limit, text) => {
    expect(describeLimit(limit)).toBe(text);
    const description = serverEventsOperation(limit).description ?? "";
    expect(description).toContain(`per session user (${text})`);
    expect(description).not.toMatch(/\{\w+\}/);
  });

  it("the event `type` field states the stage rules of the table", () => {
    const body = serverEventsOperation({ points: 600, durationSeconds: 3600 }).requestBody!.content[
      "application/json"
    ]!;
    const text = JSON.stringify(body.schema);
    expect(text).toContain(JSON.stringify(`Event type. ${describeStageRules()}`));
  });
});
