import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  emailHmac,
  newIdentitySecret,
  verifyEmailHmac,
  withVerifiedEmails,
  withoutEmailHmacs,
} from "../../server/tracking/identity-verification.ts";

const SECRET = "3f1c0b7a9e2d4c6b8a0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566";
/** Computed here as a customer's backend would, not through the module under test. */
const expected = (secret: string, email: string) => createHmac("sha256", secret).update(email).digest("hex");

describe("emailHmac", () => {
  it("is the hex HMAC-SHA256 of the trimmed, lower-cased email keyed with the secret's text", () => {
    const hmac = expected(SECRET, "buyer@example.com");
    expect(emailHmac(SECRET, "buyer@example.com")).toBe(hmac);
    expect(emailHmac(SECRET, "  Buyer@Example.COM \n")).toBe(hmac);
    expect(emailHmac(`${SECRET}0`, "buyer@example.com")).not.toBe(hmac);
  });

  it("a new secret is 32 random bytes in hex, a different one each time", () => {
    const [a, b] = [newIdentitySecret(), newIdentitySecret()];
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
  });
});

describe("verifyEmailHmac", () => {
  const hmac = expected(SECRET, "buyer@example.com");
  it.each([
    ["the HMAC of the normalized email", "Buyer@Example.com", hmac, true],
    ["the same in upper-case hex", "buyer@example.com", hmac.toUpperCase(), true],
    ["another email's HMAC", "ceo@victim.test", hmac, false],
    ["an HMAC under another secret", "buyer@example.com", expected("other", "buyer@example.com"), false],
    ["a truncated HMAC", "buyer@example.com", hmac.slice(0, 62), false],
    ["not hex", "buyer@example.com", "z".repeat(64), false],
    ["no HMAC", "buyer@example.com", undefined, false],
  ])("%s: %s", (_case, email, given, verified) => {
    expect(verifyEmailHmac(SECRET, email, given)).toBe(verified);
  });

  it("verifies nothing without a secret", () => {
    expect(verifyEmailHmac(undefined, "buyer@example.com", hmac)).toBe(false);
  });
});

describe("withVerifiedEmails", () => {
  it("keeps verified emails, drops the others (an event with no identity left is dropped) and counts them", () => {
    const result = withVerifiedEmails(
      [
        {
          type: "identify",
          visitorId: "v_1",
          email: "buyer@example.com",
          emailHmac: expected(SECRET, "buyer@example.com"),
        },
        { type: "identify", visitorId: "v_2", email: "ceo@victim.test" },
        {
          type: "identify",
          visitorId: "v_3",
          email: "ceo@victim.test",
          emailHmac: expected(SECRET, "buyer@example.com"),
        },
        { type: "identify", email: "ceo@victim.test" },
        { type: "pageview", visitorId: "v_4" },
      ],
      SECRET,
    );
    expect(result).toEqual({
      events: [
        { type: "identify", visitorId: "v_1", email: "buyer@example.com" },
        { type: "identify", visitorId: "v_2" },
        { type: "identify", visitorId: "v_3" },
        { type: "pageview", visitorId: "v_4" },
      ],
      unverified: 3,
    });
  });

  it("without verification the HMAC is only left out", () => {
    expect(withoutEmailHmacs([{ type: "identify", email: "a@b.test", emailHmac: "x" }])).toEqual([
      { type: "identify", email: "a@b.test" },
    ]);
  });
});
