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

/**
 * A prefixed, URL-safe id such as `evt_01hx…`: 10 characters of millisecond time (so ids sort
 * roughly by creation) and 16 of randomness (80 bits). Generated in the app so set-based raw
 * inserts and Prisma writes share one scheme.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let rand = "";
  for (const byte of randomChunk()) rand += ALPHABET[byte % 32];
  return `${prefix}_${time}${rand}`;
}
