import { ingestEvents } from "../../tracking/ingest/ingest-events.ts";
import { serverEventsProcedure } from "../middlewares.ts";
import {
  recordServerEventsMeta,
  ZRecordServerEventsInput,
  ZRecordServerEventsOutput,
} from "./record-server-events.types.ts";

export const recordServerEvents = serverEventsProcedure
  .meta(recordServerEventsMeta)
  .input(ZRecordServerEventsInput)
  .output(ZRecordServerEventsOutput)
  .mutation(async ({ ctx, input }) => {
    const { workspaceId, ...body } = input;
    const actor = { kind: "session", userId: ctx.user.id } as const;
    const result = await ingestEvents(ctx.db, { workspaceId, actor, body });
    ctx.metrics.inc("server_events_recorded_total", "Server events recorded.", {}, result.accepted);
    ctx.metrics.inc("server_events_duplicates_total", "Server events reported as duplicates.", {}, result.duplicates);
    return { requestId: ctx.requestId, ...result };
  });
