import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const RANDOM_BYTES_PER_ID = 16;

// Entropy drawn in 4 KiB blocks: one CSPRNG call per 256 ids instead of one per id (a batch of 50
// events makes over 100 ids, and the per-call cost showed in CPU profiles of the ingest path).
let pool = Buffer.alloc(0);
let offset = 0;
function randomChunk(): Buffer {
  if (offset + RANDOM_BYTES_PER_ID > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  offset += RANDOM_BYTES_PER_ID;
  return pool.subarray(offset - RANDOM_BYTES_PER_ID, offset);
}

/** The last id's time and random part: the next id of the same millisecond counts up from it. */
let lastTime = -1;
let lastRandom: number[] = [];

/**
 * A prefixed, URL-safe id such as `evt_01hx…`: 10 characters of millisecond time and 16 of
 * randomness (80 bits). Ids a process makes are strictly increasing: within one millisecond (or
 * if the clock steps back) the random part of the last id is counted up by one instead of drawn
 * anew, so ids sort in the order they were made — a batch's events whose times tie stay in the
 * order they were sent on the timeline, which breaks ties by id. Generated in the app so
 * set-based raw inserts and Prisma writes share one scheme.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  if (now > lastTime) {
    lastTime = now;
    lastRandom = [...randomChunk()].map((byte) => byte % 32);
  } else {
    increment(lastRandom);
  }
  let time = "";
  let t = lastTime;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let rand = "";
  for (const digit of lastRandom) rand += ALPHABET[digit];
  return `${prefix}_${time}${rand}`;
}

/** Adds one to a base-32 number held as digits (most significant first); 80 bits do not run out. */
function increment(digits: number[]): void {
  for (let i = digits.length - 1; i >= 0; i--) {
    const digit = (digits[i] ?? 0) + 1;
    digits[i] = digit % 32;
    if (digit < 32) return;
  }
}
