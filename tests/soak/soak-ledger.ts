import { maxStage, type TFunnelStage } from "../../server/tracking/stages.ts";

/** What the server answered for one event of an accepted batch. */
export type TEventAnswer = { status: "recorded" | "duplicate"; eventId: string; profileId: string };

export type TMessageRecord = {
  siteId: string;
  messageId: string;
  answers: TEventAnswer[];
  /** Attempts that got no usable answer (5xx, network error): their outcome is unknown. */
  unanswered: number;
};

/**
 * The clients' side of the story, kept while the soak runs and compared with the database
 * afterwards: every request's status, every event's answer by messageId, the highest stage seen
 * per profile and funnel, merges reported, hostile payloads tried.
 */
export class SoakLedger {
  requests = 0;
  reads = 0;
  writes = 0;
  retriedBatches = 0;
  racedBatches = 0;
  crossInstanceRequests = 0;
  readonly statuses = new Map<number, number>();
  readonly serverErrors: string[] = [];
  readonly sessionFailures: string[] = [];
  readonly unexpected: string[] = [];
  readonly messages = new Map<string, TMessageRecord>();
  readonly stagesSeen = new Map<string, TFunnelStage>();
  readonly mergedAway: string[] = [];
  mergesRefused = 0;
  readonly hostile = new Map<string, number[]>();

  /** Counts one HTTP exchange; status 0 means no response at all. */
  countResponse(label: string, status: number, detail: string): void {
    this.requests += 1;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (status >= 500 || status === 0)
      this.serverErrors.push(`${label}: ${status || "no response"} ${detail.slice(0, 300)}`);
  }

  countOf(predicate: (status: number) => boolean): number {
    return [...this.statuses].filter(([status]) => predicate(status)).reduce((sum, [, n]) => sum + n, 0);
  }

  recordAnswer(siteId: string, messageId: string, answer: TEventAnswer): void {
    this.message(siteId, messageId).answers.push(answer);
  }

  recordUnanswered(siteId: string, messageIds: string[]): void {
    for (const id of messageIds) this.message(siteId, id).unanswered += 1;
  }

  seeStage(profileId: string, funnelId: string, stage: TFunnelStage): void {
    const key = `${profileId}|${funnelId}`;
    this.stagesSeen.set(key, maxStage(this.stagesSeen.get(key) ?? stage, stage));
  }

  recordHostile(name: string, status: number): void {
    this.hostile.set(name, [...(this.hostile.get(name) ?? []), status]);
  }

  get duplicates(): number {
    return [...this.messages.values()].reduce(
      (n, m) => n + m.answers.filter((a) => a.status === "duplicate").length,
      0,
    );
  }

  get recorded(): number {
    return [...this.messages.values()].reduce((n, m) => n + m.answers.filter((a) => a.status === "recorded").length, 0);
  }

  private message(siteId: string, messageId: string): TMessageRecord {
    const key = `${siteId}|${messageId}`;
    let record = this.messages.get(key);
    if (!record) this.messages.set(key, (record = { siteId, messageId, answers: [], unanswered: 0 }));
    return record;
  }
}
