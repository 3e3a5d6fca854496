import { randomBytes } from "node:crypto";
import type { PrismaClient } from "../../generated/prisma/client.ts";

/** One batch as sent: its messageIds, and what came back (a status, or a transport error). */
export type TSentBatch = {
  messageIds: string[];
  status?: number;
  reason?: string;
  retryAfter?: string | null;
  error?: string;
};

export type TBatchTarget = { baseUrl: string; cookie: string; workspaceId: string; siteId: string };

/**
 * `size` events with fresh messageIds, on a few shared visitors and emails (so requests contend
 * for the same profiles and merge them), keyed by `tag`.
 */
export function makeEvents(tag: string, size: number) {
  return Array.from({ length: size }, (_, i) => {
    const n = Math.floor(Math.random() * 12);
    return {
      type: i % 3 === 0 ? "signup" : "server_action",
      visitorId: `v_${tag}_${n}`,
      ...(n % 4 === 0 ? { email: `person-${tag}-${n}@example.test` } : {}),
      messageId: `m_${tag}_${randomBytes(8).toString("hex")}`,
    };
  });
}

export type TTransport = "rest" | "trpc";

/** POSTs one batch over REST or tRPC; never throws (a transport failure is recorded as `error`). */
export async function sendBatch(
  target: TBatchTarget,
  events: { messageId: string }[],
  transport: TTransport = "rest",
  init: RequestInit = {},
): Promise<TSentBatch> {
  const messageIds = events.map((e) => e.messageId);
  const { baseUrl, workspaceId, siteId } = target;
  const [url, input] =
    transport === "rest"
      ? [`${baseUrl}/api/tracking/server-events?workspaceId=${workspaceId}`, { siteId, events }]
      : [`${baseUrl}/api/trpc/tracking.recordServerEvents`, { workspaceId, siteId, events }];
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: target.cookie },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(30_000),
      ...init,
    });
    const body = (await res.json()) as { data?: { reason?: string }; error?: { data?: { reason?: string } } };
    const reason = (body.error ?? body).data?.reason;
    return { messageIds, status: res.status, reason, retryAfter: res.headers.get("retry-after") };
  } catch (err) {
    const cause = (err as { cause?: unknown } | null)?.cause;
    const why = cause instanceof Error ? cause.toString() : typeof cause === "string" ? cause : "";
    return { messageIds, error: err instanceof Error ? `${err.message} ${why}` : String(err) };
  }
}

/** How many TrackingEvents each of `messageIds` has (0 = not recorded, 1 = once, 2+ = doubled). */
export async function recordedCounts(prisma: PrismaClient, siteId: string, messageIds: string[]) {
  const where = { siteId, messageId: { in: messageIds } };
  const rows = await prisma.trackingEvent.groupBy({ by: ["messageId"], where, _count: true });
  const counts = new Map(messageIds.map((id) => [id, 0]));
  for (const row of rows) counts.set(row.messageId!, row._count);
  return counts;
}

/** Logs in over REST and answers the session cookie. */
export async function loginCookie(baseUrl: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${await res.text()}`);
  return res.headers.getSetCookie()[0]!.split(";", 1)[0]!;
}
