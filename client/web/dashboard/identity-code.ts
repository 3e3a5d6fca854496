/**
 * Identity verification's install code: what the customer's backend runs to compute the HMAC of
 * an email (as server/tracking/identity-verification.ts checks it), and how the page passes it on.
 */

export const SECRET_PLACEHOLDER = "<identity verification secret>";

export function nodeHmacCode(): string {
  return [
    'import { createHmac } from "node:crypto";',
    "",
    "// On your server only: the secret must never reach a browser.",
    "export function emailHmac(email) {",
    "  const normalized = email.trim().toLowerCase();",
    '  return createHmac("sha256", process.env.FUNNELFIZZ_IDENTITY_SECRET).update(normalized).digest("hex");',
    "}",
  ].join("\n");
}

export function pythonHmacCode(): string {
  return [
    "import hashlib, hmac, os",
    "",
    "# On your server only: the secret must never reach a browser.",
    "def email_hmac(email: str) -> str:",
    '    secret = os.environ["FUNNELFIZZ_IDENTITY_SECRET"].encode()',
    "    return hmac.new(secret, email.strip().lower().encode(), hashlib.sha256).hexdigest()",
  ].join("\n");
}

/** The identify call as the page renders it, with the HMAC your server computed for the signed-in user. */
export function identifyWithHmacCode(): string {
  const call = 'funnelfizz("identify", "user@example.com", null, { emailHmac: "<emailHmac from your server>" });';
  return `<script>${call}</script>`;
}
