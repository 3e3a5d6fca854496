import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

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
  const bytes = randomBytes(16);
  let rand = "";
  for (const byte of bytes) rand += ALPHABET[byte % 32];
  return `${prefix}_${time}${rand}`;
}
