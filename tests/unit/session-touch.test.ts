import { MemoryStore, type SessionData } from "express-session";
import { describe, expect, it } from "vitest";
import { touchAtMostEvery, touchIntervalMs } from "../../server/http/session.ts";

/** express-session's own in-memory store, counting the touches that reach it. */
class CountingStore extends MemoryStore {
  touches: string[] = [];
  failNext = false;
  override touch(sid: string, sess: SessionData, callback?: (err?: unknown) => void): void {
    this.touches.push(sid);
    if (this.failNext) {
      this.failNext = false;
      return callback?.(new Error("store down"));
    }
    super.touch(sid, sess, callback);
  }
}

const session = { cookie: { originalMaxAge: 60_000 } } as SessionData;
const touch = (store: MemoryStore, sid: string) =>
  new Promise<unknown>((resolve) => store.touch(sid, session, (err?: unknown) => resolve(err)));

describe("session touch throttle", () => {
  it("touches a session once per interval, each session on its own, and retries after a failed touch", async () => {
    const inner = new CountingStore();
    const store = touchAtMostEvery(inner, 200);
    await touch(store, "a");
    await touch(store, "a");
    await touch(store, "b");
    expect(inner.touches).toEqual(["a", "b"]);

    inner.failNext = true;
    expect(await touch(store, "c")).toBeInstanceOf(Error);
    await touch(store, "c");
    expect(inner.touches).toEqual(["a", "b", "c", "c"]);

    await new Promise((r) => setTimeout(r, 450));
    await touch(store, "a");
    expect(inner.touches).toEqual(["a", "b", "c", "c", "a"]);
  });

  it("waits 1 % of the session lifetime, at most a minute", () => {
    expect(touchIntervalMs(604_800)).toBe(60_000);
    expect(touchIntervalMs(60)).toBe(600);
  });
});
