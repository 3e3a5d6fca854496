import { describe, expect, it } from "vitest";
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from "../../server/auth/passwords.ts";

describe("passwords", () => {
  it("hashes with scrypt and a random salt, and verifies the right password", async () => {
    const [a, b] = await Promise.all([hashPassword("correct horse"), hashPassword("correct horse")]);
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain("correct horse");
    expect(await verifyPassword("correct horse", a)).toBe(true);
    expect(await verifyPassword("correct horse", b)).toBe(true);
  });

  it("rejects a wrong password", async () => {
    const stored = await hashPassword("correct horse");
    expect(await verifyPassword("correct horsE", stored)).toBe(false);
    expect(await verifyPassword("", stored)).toBe(false);
  });

  it("handles non-ASCII passwords", async () => {
    const stored = await hashPassword("pässwörd ✓");
    expect(await verifyPassword("pässwörd ✓", stored)).toBe(true);
    expect(await verifyPassword("passwort ✓", stored)).toBe(false);
  });

  it.each([
    ["empty", ""],
    ["not a hash", "garbage"],
    ["another scheme", "$2b$10$abcdefghijklmnopqrstuv"],
    ["missing the hash", "scrypt$32768$8$1$c2FsdHNhbHRzYWx0$"],
    ["non-numeric cost", "scrypt$abc$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2g"],
    ["cost over the memory limit", "scrypt$1048576$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2g"],
    ["cost not a power of two", "scrypt$1000$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2g"],
  ])("treats a malformed stored hash (%s) as no match instead of throwing", async (_name, stored) => {
    await expect(verifyPassword("anything", stored)).resolves.toBe(false);
  });

  it("keeps a dummy hash for unknown emails that matches nothing guessable", async () => {
    expect(DUMMY_PASSWORD_HASH).toMatch(/^scrypt\$/);
    expect(await verifyPassword("", DUMMY_PASSWORD_HASH)).toBe(false);
    expect(await verifyPassword("password", DUMMY_PASSWORD_HASH)).toBe(false);
  });
});
