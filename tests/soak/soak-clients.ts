import type { TMeOutput } from "../../server/trpc/auth/me.types.ts";
import type { TProfile } from "../../server/trpc/shared/profile.types.ts";
import type { TRecordServerEventsOutput } from "../../server/trpc/tracking/record-server-events.types.ts";
import { FUNNEL_STAGES } from "../../server/tracking/stages.ts";
import { HOSTILE_PAYLOADS, type THostilePayload } from "./hostile-payloads.ts";
import type { TSoakSeed, TSoakSite } from "./soak-environment.ts";
import {
  exchange,
  jsonPost,
  payloadOf,
  restWriteUrl,
  retryDelayMs,
  trpcQueryUrl,
  trpcUrl,
  type THttpResult,
  type TInstance,
} from "./soak-http.ts";
import type { SoakLedger } from "./soak-ledger.ts";

export type TSoakPlan = {
  instances: TInstance[];
  seed: TSoakSeed;
  ledger: SoakLedger;
  /** Unique per run: every identifier and messageId carries it. */
  runTag: string;
  startedAt: number;
  deadline: number;
  maxRequests: number;
};

/** A population lives this long; then a fresh one starts, so merges keep happening all run long. */
const GENERATION_MS = 10_000;
const VISITORS_PER_GENERATION = 32;
const EMAILS_PER_GENERATION = 12;
const RETRIES_AFTER_FAILURE = 2;
const HISTORY = 20;

type TEvent = Record<string, unknown> & { messageId: string };
type TBatch = { site: TSoakSite; sentAt?: string; events: TEvent[] };

const EVENT_TYPES: [string, number][] = [
  ["pageview", 35],
  ["click", 20],
  ["signup", 12],
  ["identify", 8],
  ["trial_signup", 6],
  ["trial_start", 4],
  ["feature_used", 10],
  ["invite_sent", 5],
];
/** Where visits come from: each decides a different channel (direct, organic, social, paid, email, ai, referral). */
const SOURCES: Record<string, unknown>[] = [
  {},
  { referrer: "https://www.google.com/search?q=funnel" },
  { referrer: "https://t.co/abc123" },
  { referrer: "https://chat.openai.com/" },
  { referrer: "https://news.ycombinator.com/item?id=1" },
  { utm: { source: "google", medium: "cpc", campaign: "brand" } },
  { utm: { source: "newsletter", medium: "email" } },
  { path: "/pricing?gclid=abc123" },
  { path: "/signup?utm_source=facebook&utm_medium=social" },
];

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const chance = (p: number) => Math.random() < p;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function weighted(items: [string, number][]): string {
  let roll = Math.random() * items.reduce((n, [, w]) => n + w, 0);
  for (const [item, weight] of items) if ((roll -= weight) < 0) return item;
  return items[0]![0];
}

/**
 * One of the soak's concurrent clients: logs in on its home instance, then sends writes (new,
 * retried, raced on both instances), reads and hostile payloads to either instance with the same
 * session cookie, writing down everything the servers answer.
 */
export class SoakClient {
  private cookie = "";
  private sequence = 0;
  private readonly history: TBatch[] = [];
  private readonly profilesSeen: string[] = [];
  constructor(
    private readonly index: number,
    private readonly clientCount: number,
    private readonly plan: TSoakPlan,
    private readonly user: TSoakSeed["users"][number],
  ) {}

  private get ledger() {
    return this.plan.ledger;
  }

  private get home(): TInstance {
    return this.plan.instances[this.index % this.plan.instances.length]!;
  }

  /** Logs in on the home instance; the cookie must then be good on every instance. */
  async login(): Promise<void> {
    const res = await exchange(
      this.ledger,
      "login",
      `${this.home.baseUrl}/api/auth/login`,
      jsonPost(JSON.stringify({ email: this.user.email, password: this.user.password })),
    );
    if (res.status !== 200) throw new Error(`client ${this.index}: login on ${this.home.name} answered ${res.status}`);
    const setCookie = res.headers
      ?.getSetCookie()
      .map((line) => line.split(";", 1)[0]!)
      .find((pair) => pair.startsWith("fse.sid="));
    if (!setCookie) throw new Error(`client ${this.index}: login set no session cookie`);
    this.cookie = setCookie;
    for (const instance of this.plan.instances) {
      const me = await exchange(this.ledger, "me", `${instance.baseUrl}/api/auth/me`, {
        headers: { cookie: this.cookie },
      });
      if (me.status !== 200 || (payloadOf(me) as Partial<TMeOutput> | undefined)?.user?.id !== this.user.id) {
        this.ledger.sessionFailures.push(
          `client ${this.index}: cookie from ${this.home.name} on ${instance.name}: /api/auth/me ${me.status}`,
        );
      }
    }
  }

  /** Every hostile payload is tried at least once per run (spread over the clients), then some at random. */
  async run(): Promise<void> {
    for (let i = this.index; i < HOSTILE_PAYLOADS.length && Date.now() < this.plan.deadline; i += this.clientCount) {
      await this.hostile(HOSTILE_PAYLOADS[i]!);
    }
    while (Date.now() < this.plan.deadline && this.ledger.requests < this.plan.maxRequests) {
      const roll = Math.random();
      if (roll < 0.5) await this.write(this.newBatch(), this.anyInstance());
      else if (roll < 0.65) await this.retryOldBatch();
      else if (roll < 0.72) await this.race(this.newBatch());
      else if (roll < 0.96) await this.read();
      else await this.hostile(pick(HOSTILE_PAYLOADS));
    }
  }

  private anyInstance(): TInstance {
    const instance = pick(this.plan.instances);
    if (instance !== this.home) this.ledger.crossInstanceRequests += 1;
    return instance;
  }

  private newBatch(): TBatch {
    const site = pick(this.plan.seed.sites);
    const size = chance(0.2) ? 1 + Math.floor(Math.random() * 50) : 1 + Math.floor(Math.random() * 8);
    // Some clients send their own clock, off by up to ±5 minutes: the server corrects by it.
    const clock = chance(0.1) ? Date.now() + (Math.random() - 0.5) * 600_000 : undefined;
    const events = Array.from({ length: size }, () => this.newEvent(clock ?? Date.now()));
    return { site, ...(clock !== undefined ? { sentAt: new Date(clock).toISOString() } : {}), events };
  }

  /** Who can show up now: this generation's visitors and emails (shared by every client). */
  private population() {
    const generation = Math.floor((Date.now() - this.plan.startedAt) / GENERATION_MS);
    return {
      visitorOf: (p: number) => `v-${this.plan.runTag}-${generation}-${p}`,
      emailOf: (p: number) => `p-${this.plan.runTag}-${generation}-${p % EMAILS_PER_GENERATION}@soak.example`,
    };
  }

  private newEvent(clock: number): TEvent {
    const { visitorOf, emailOf } = this.population();
    const person = Math.floor(Math.random() * VISITORS_PER_GENERATION);
    const visitorId = visitorOf(person);
    const identity = Math.random();
    // Mostly one person per device; sometimes a shared device (another person's email: a refused merge).
    const ids: Record<string, unknown> =
      identity < 0.6
        ? { visitorId }
        : identity < 0.85
          ? { visitorId, email: emailOf(person) }
          : identity < 0.9
            ? { visitorId, email: emailOf(person + 1 + Math.floor(Math.random() * (EMAILS_PER_GENERATION - 1))) }
            : identity < 0.97
              ? { email: emailOf(person) }
              : { visitorId, email: emailOf(person), userId: this.user.id };
    return {
      type: weighted(EVENT_TYPES),
      ...ids,
      ...pick(SOURCES),
      ...(chance(0.2) ? { timestamp: new Date(clock - Math.random() * 72 * 3600_000).toISOString() } : {}),
      ...(chance(0.3) ? { props: { plan: pick(["free", "pro", "team"]), seats: Math.floor(Math.random() * 50) } } : {}),
      messageId: `m-${this.plan.runTag}-${this.index}-${this.sequence++}`,
    };
  }

  /** A batch sent before, again (same messageIds), sometimes with new events added. */
  private async retryOldBatch(): Promise<void> {
    const old = this.history.length ? pick(this.history) : undefined;
    if (!old) return this.write(this.newBatch(), this.anyInstance());
    this.ledger.retriedBatches += 1;
    const extra = chance(0.5) ? this.newBatch().events.slice(0, 50 - old.events.length) : [];
    await this.write({ ...old, events: [...old.events, ...extra] }, this.anyInstance());
  }

  /** The same new batch to both instances at once: exactly one may record each event. */
  private async race(batch: TBatch): Promise<void> {
    this.ledger.racedBatches += 1;
    this.ledger.crossInstanceRequests += this.plan.instances.filter((i) => i !== this.home).length;
    await Promise.all(this.plan.instances.map((instance) => this.write(batch, instance)));
  }

  private async write(batch: TBatch, instance: TInstance): Promise<void> {
    this.remember(batch);
    for (let attempt = 0; ; attempt++) {
      const result = await this.send(batch, instance);
      if (result.status === 200) return this.noteAccepted(batch, payloadOf(result));
      if (result.status === 0 || result.status >= 500) {
        this.ledger.recordUnanswered(
          batch.site.id,
          batch.events.map((e) => e.messageId),
        );
        if (attempt >= RETRIES_AFTER_FAILURE || Date.now() > this.plan.deadline) return;
        await sleep(retryDelayMs(result, attempt));
        continue;
      }
      if (result.status === 401)
        this.ledger.sessionFailures.push(`client ${this.index}: write on ${instance.name} answered 401`);
      else
        this.ledger.unexpected.push(
          `client ${this.index}: a valid batch answered ${result.status} ${JSON.stringify(result.body).slice(0, 300)}`,
        );
      return;
    }
  }

  private send(batch: TBatch, instance: TInstance): Promise<THttpResult> {
    this.ledger.writes += 1;
    const body = { siteId: batch.site.id, ...(batch.sentAt ? { sentAt: batch.sentAt } : {}), events: batch.events };
    if (chance(0.25)) {
      return exchange(
        this.ledger,
        `write ${instance.name} tRPC`,
        trpcUrl(instance.baseUrl, "tracking.recordServerEvents"),
        jsonPost(JSON.stringify({ workspaceId: this.plan.seed.workspaceId, ...body }), this.cookie),
      );
    }
    return exchange(
      this.ledger,
      `write ${instance.name} REST`,
      restWriteUrl(instance.baseUrl, this.plan.seed.workspaceId),
      jsonPost(JSON.stringify(body), this.cookie),
    );
  }

  /** The answer is the server's to get right: it is read as the declared output, and checked. */
  private noteAccepted(batch: TBatch, payload: unknown): void {
    const events = (payload as { events?: unknown } | undefined)?.events;
    const results = Array.isArray(events) ? (events as TRecordServerEventsOutput["events"]) : [];
    if (results.length !== batch.events.length) {
      this.ledger.unexpected.push(
        `client ${this.index}: ${batch.events.length} events sent, ${results.length} answered`,
      );
    }
    for (const r of results) {
      const sent = batch.events[r.index];
      if (!sent) continue;
      this.ledger.recordAnswer(batch.site.id, sent.messageId, {
        status: r.status,
        eventId: r.eventId,
        profileId: r.profileId,
      });
      this.ledger.seeStage(r.profileId, batch.site.funnelId, r.stage);
      for (const loser of r.merged ?? []) this.ledger.mergedAway.push(loser);
      if (r.mergeRefused) this.ledger.mergesRefused += 1;
      this.profilesSeen.push(r.profileId);
    }
    this.profilesSeen.splice(0, Math.max(0, this.profilesSeen.length - HISTORY * 5));
  }

  private remember(batch: TBatch): void {
    if (this.history.includes(batch)) return;
    this.history.push(batch);
    if (this.history.length > HISTORY) this.history.shift();
  }

  private async read(): Promise<void> {
    this.ledger.reads += 1;
    const instance = this.anyInstance();
    const ws = this.plan.seed.workspaceId;
    const roll = Math.random();
    const known = this.profilesSeen.length ? pick(this.profilesSeen) : undefined;
    let result: THttpResult;
    const { visitorOf, emailOf } = this.population();
    const person = Math.floor(Math.random() * VISITORS_PER_GENERATION);
    if (roll < 0.3 || (roll < 0.75 && !known)) {
      const visitorId = visitorOf(person);
      result = chance(0.5)
        ? await this.get(
            instance,
            "lookup REST",
            `${instance.baseUrl}/api/profiles/lookup?workspaceId=${ws}&visitorId=${encodeURIComponent(visitorId)}`,
          )
        : await this.get(
            instance,
            "lookup tRPC",
            trpcQueryUrl(instance.baseUrl, "profiles.lookup", { workspaceId: ws, visitorId }),
          );
      this.noteProfile((payloadOf(result) as { profile?: TProfile | null } | undefined)?.profile);
    } else if (roll < 0.45) {
      const email = emailOf(person);
      result = await this.get(
        instance,
        "lookup by email",
        `${instance.baseUrl}/api/profiles/lookup?workspaceId=${ws}&email=${encodeURIComponent(email)}`,
      );
      this.noteProfile((payloadOf(result) as { profile?: TProfile | null } | undefined)?.profile);
    } else if (roll < 0.75 && known) {
      result = await this.get(
        instance,
        "get profile",
        `${instance.baseUrl}/api/profiles/${known}?workspaceId=${ws}&limit=20`,
      );
      this.noteProfile((payloadOf(result) as { profile?: TProfile | null } | undefined)?.profile);
    } else {
      const site = pick(this.plan.seed.sites);
      result = await this.get(
        instance,
        "list events",
        `${instance.baseUrl}/api/tracking/events?workspaceId=${ws}&siteId=${site.id}&limit=50`,
      );
    }
    if (result.status === 401)
      this.ledger.sessionFailures.push(`client ${this.index}: read on ${instance.name} answered 401`);
    else if (result.status !== 200 && result.status < 500 && result.status !== 0) {
      this.ledger.unexpected.push(
        `client ${this.index}: a valid read answered ${result.status} ${JSON.stringify(result.body).slice(0, 300)}`,
      );
    }
  }

  private get(instance: TInstance, what: string, url: string): Promise<THttpResult> {
    return exchange(this.ledger, `read ${instance.name} ${what}`, url, { headers: { cookie: this.cookie } });
  }

  private noteProfile(profile: TProfile | null | undefined): void {
    if (!profile?.id) return;
    for (const link of profile.funnelLinks ?? []) {
      if (FUNNEL_STAGES.includes(link.currentStage)) this.ledger.seeStage(profile.id, link.funnelId, link.currentStage);
    }
  }

  private async hostile(payload: THostilePayload): Promise<void> {
    const other = this.plan.seed.users.find((u) => u.id !== this.user.id) ?? this.user;
    const result = await payload.send({
      ledger: this.ledger,
      base: this.anyInstance().baseUrl,
      cookie: this.cookie,
      workspaceId: this.plan.seed.workspaceId,
      siteId: pick(this.plan.seed.sites).id,
      otherUserId: other.id,
      tag: `${this.plan.runTag}-${this.index}-${this.sequence++}`,
    });
    this.ledger.recordHostile(payload.name, result.status);
  }
}
