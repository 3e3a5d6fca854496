import { seededEmail, seededVisitor } from "./seed-history.ts";

export const BATCH_SIZE = 50;

/** A deterministic PRNG (mulberry32): every run and every row sees the same mix. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const REFERRERS = [
  undefined,
  undefined,
  "https://www.google.com/",
  "https://t.co/x",
  "https://chatgpt.com/",
  "https://partner.example.org/post",
];
const PATHS = [
  "/app",
  "/app",
  "/pricing?utm_source=newsletter&utm_medium=email",
  "/lp?utm_source=google&utm_medium=cpc&gclid=x1",
  "/docs",
];
const BROWSE_TYPES = ["pageview", "pageview", "custom", "feature_used"];

export type TEvent = Record<string, unknown>;
export type TBody = { siteId: string; sentAt: string; events: TEvent[] };

/**
 * The request bodies one measurement sends. Per event: 55 % a returning seeded visitor, 20 % a new
 * visitor, 10 % an identify linking a seeded email-less visitor to a seeded email (a merge of two
 * grown profiles, refused when that visitor already merged into another email), 10 % a returning
 * identified person signing up or starting a trial, 5 % a new visitor signing up with a new email.
 * One request in 20 re-sends an earlier body unchanged: a retry, answered as duplicates.
 */
export class Workload {
  private readonly random: () => number;
  private readonly sent: TBody[] = [];
  private seq = 0;

  constructor(
    private readonly siteId: string,
    private readonly people: number,
    private readonly tag: string,
    seed = 42,
  ) {
    this.random = prng(seed);
  }

  next(size = BATCH_SIZE): TBody {
    if (this.sent.length > 0 && this.random() < 0.05) return this.sent[Math.floor(this.random() * this.sent.length)]!;
    const seq = this.seq++;
    const now = Date.now();
    const events = Array.from({ length: size }, (_, i) => this.event(`${this.tag}-${seq}-${i}`, now));
    const body = { siteId: this.siteId, sentAt: new Date(now).toISOString(), events };
    this.sent.push(body);
    if (this.sent.length > 50) this.sent.shift();
    return body;
  }

  private event(messageId: string, now: number): TEvent {
    const r = this.random();
    const pick = <T>(list: readonly T[]) => list[Math.floor(this.random() * list.length)]!;
    const referrer = pick(REFERRERS);
    const base = {
      path: pick(PATHS),
      ...(referrer ? { referrer } : {}),
      props: { plan: this.random() < 0.5 ? "pro" : "free", seats: Math.floor(this.random() * 20) },
      timestamp: new Date(now - Math.floor(this.random() * 3_600_000)).toISOString(),
      messageId,
    };
    const quarter = Math.max(1, Math.floor(this.people / 4));
    const anyone = () => 1 + Math.floor(this.random() * this.people);
    const withEmail = () => 1 + Math.floor(this.random() * quarter);
    const withoutEmail = () => quarter + 1 + Math.floor(this.random() * Math.max(1, this.people - quarter));
    if (r < 0.55) return { type: pick(BROWSE_TYPES), visitorId: seededVisitor(anyone()), ...base };
    if (r < 0.75) return { type: pick(BROWSE_TYPES), visitorId: `nv_${messageId}`, ...base };
    if (r < 0.85)
      return { type: "identify", visitorId: seededVisitor(withoutEmail()), email: seededEmail(withEmail()), ...base };
    if (r < 0.95) {
      const n = withEmail();
      return { type: pick(["signup", "trial_start"]), visitorId: seededVisitor(n), email: seededEmail(n), ...base };
    }
    return { type: "signup", visitorId: `nv_${messageId}`, email: `new_${messageId}@bench.example`, ...base };
  }
}
