import type { TDatabase } from "../db/database.ts";
import { preparedQuery } from "../db/sql.ts";
import { decryptSecret, encryptSecret } from "../infra/secret-box.ts";
import { newIdentitySecret } from "./identity-verification.ts";

export type TIdentityVerificationChange = {
  siteId: string;
  required: boolean;
  /** The plain secret, only when this change created or rotated it: it is never readable again through the API. */
  secret?: string;
};

/**
 * Turns a site's verification on or off in one statement. A secret is created when `rotate` is
 * asked or when verification is turned on without one (sealed with the secrets key, as the Stripe
 * signing secret is); the old one stops verifying at once. Undefined when the site does not exist.
 */
export async function setIdentityVerification(
  db: TDatabase,
  key: Buffer,
  input: { siteId: string; required: boolean; rotate: boolean },
): Promise<TIdentityVerificationChange | undefined> {
  const secret = newIdentitySecret();
  const sealed = encryptSecret(key, secret);
  // The sealed value has a random IV, so equality after the update says whether this statement set it.
  const [row] = await preparedQuery(db, "set_identity_verification").rows<{ created: boolean }>`
    UPDATE tracking_sites
    SET require_identity_verification = ${input.required},
        identity_secret = CASE WHEN ${input.rotate}::boolean OR (identity_secret IS NULL AND ${input.required}::boolean)
                               THEN ${sealed} ELSE identity_secret END
    WHERE id = ${input.siteId}
    RETURNING identity_secret IS NOT DISTINCT FROM ${sealed} AS created`;
  if (!row) return undefined;
  return { siteId: input.siteId, required: input.required, ...(row.created ? { secret } : {}) };
}

export type TIdentityVerificationState = { required: boolean; secretSet: boolean };

/** Whether a site requires verification and has a secret; never the secret. */
export async function identityVerificationOf(
  db: TDatabase,
  siteIds: readonly string[],
): Promise<Map<string, TIdentityVerificationState>> {
  const rows = await preparedQuery(db, "identity_verification_of").rows<{
    id: string;
    required: boolean;
    secretSet: boolean;
  }>`SELECT id, require_identity_verification AS required, identity_secret IS NOT NULL AS "secretSet"
    FROM tracking_sites WHERE id = ANY(${siteIds}::text[])`;
  return new Map(rows.map(({ id, required, secretSet }) => [id, { required, secretSet }]));
}

/**
 * The plain secret of a sealed column value; undefined when there is none or it was sealed under
 * another secrets key (then no HMAC verifies until an ADMIN rotates it).
 */
export function openIdentitySecret(key: Buffer, sealed: string | null): string | undefined {
  return sealed ? decryptSecret(key, sealed) : undefined;
}
