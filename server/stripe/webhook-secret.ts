import { z } from "zod";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { TDatabase } from "../db/database.ts";
import { preparedQuery } from "../db/sql.ts";
import { decryptSecret, encryptSecret } from "../infra/secret-box.ts";

/** A Stripe webhook signing secret as the Dashboard and `stripe listen` show it. */
export const ZStripeWebhookSecret = z
  .string()
  .trim()
  .regex(/^whsec_[A-Za-z0-9+/=_-]{8,200}$/, "must be a Stripe webhook signing secret (whsec_…)")
  .describe("The endpoint's signing secret from Stripe (`whsec_…`).");

/**
 * Stores a site's signing secret encrypted with the secrets key (it is an HMAC key, so it must be
 * readable again: a hash would verify nothing). False when the site does not exist.
 */
export async function setStripeWebhookSecret(
  prisma: PrismaClient,
  key: Buffer,
  input: { siteId: string; secret: string },
): Promise<boolean> {
  const { count } = await prisma.trackingSite.updateMany({
    where: { id: input.siteId },
    data: { stripeWebhookSecret: encryptSecret(key, input.secret) },
  });
  return count === 1;
}

export type TStripeSite = { siteId: string; workspaceId: string; secret: string };

/**
 * The site with its plain signing secret; undefined for an unknown site, a site without a secret,
 * or one sealed under another secrets key (all three verify nothing).
 */
export async function findStripeSite(db: TDatabase, key: Buffer, siteId: string): Promise<TStripeSite | undefined> {
  // Raw `pg`: a webhook delivery records events, and the ingest path never loads Prisma's query compiler.
  const [site] = await preparedQuery(db, "stripe_site").rows<{
    id: string;
    workspaceId: string;
    stripeWebhookSecret: string | null;
  }>`SELECT id, workspace_id AS "workspaceId", stripe_webhook_secret AS "stripeWebhookSecret"
    FROM tracking_sites WHERE id = ${siteId}`;
  const secret = site?.stripeWebhookSecret ? decryptSecret(key, site.stripeWebhookSecret) : undefined;
  return site && secret ? { siteId: site.id, workspaceId: site.workspaceId, secret } : undefined;
}
