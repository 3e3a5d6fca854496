import { z } from "zod";
import type { PrismaClient } from "../../../generated/prisma/client.ts";
import { setStripeWebhookSecret, ZStripeWebhookSecret } from "../../stripe/webhook-secret.ts";
import { BROWSER_STAGE_CEILINGS } from "../../tracking/ingest/trust.ts";
import { setIdentityVerification } from "../../tracking/identity-verification.repo.ts";
import {
  createSite,
  findDefaultFunnel,
  findFunnel,
  listSites,
  setBrowserStageCeiling,
} from "../../workspaces/workspaces.repo.ts";
import { CommandFailedError, defineCommand, ZCliId, ZCliName } from "../command.ts";
import { requireWorkspace } from "./workspace.ts";

/** A bare host name as the channel rules compare it with referrers: `shop.example.com`, no scheme or path. */
const ZDomain = z
  .string()
  .trim()
  .toLowerCase()
  .max(253, "must be at most 253 characters")
  .regex(
    /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/,
    "must be a host name like shop.example.com (no scheme, port or path)",
  );

export const siteCreate = defineCommand({
  name: "site create",
  summary: "Create a tracking site (in the workspace's default funnel unless --funnel)",
  usage: "site create --workspace <id> --domain <host> [--name <name>] [--funnel <id>] [--allow-duplicate-domain]",
  options: {
    workspace: { required: true },
    domain: { required: true },
    name: { required: false },
    funnel: { required: false },
    "allow-duplicate-domain": { required: false, switch: true },
  },
  input: z.object({
    workspace: ZCliId,
    domain: ZDomain,
    name: ZCliName.optional(),
    funnel: ZCliId.optional(),
    "allow-duplicate-domain": z.boolean().optional(),
  }),
  async run({ db }, input) {
    await requireWorkspace(db, input.workspace);
    if (!input["allow-duplicate-domain"]) await refuseDuplicateDomain(db.prisma, input.workspace, input.domain);
    const funnel = input.funnel
      ? await findFunnel(db.prisma, input.workspace, input.funnel)
      : await findDefaultFunnel(db.prisma, input.workspace);
    if (!funnel) {
      throw new CommandFailedError(
        input.funnel
          ? `funnel ${input.funnel} is not a funnel of workspace ${input.workspace}`
          : `workspace ${input.workspace} has no funnel`,
      );
    }
    const site = await createSite(db.prisma, {
      workspaceId: input.workspace,
      funnelId: funnel.id,
      domain: input.domain,
      name: input.name,
    });
    return {
      text: site.id,
      json: {
        id: site.id,
        workspaceId: site.workspaceId,
        funnelId: site.funnelId,
        domain: site.domain,
        name: site.name,
      },
    };
  },
});

/**
 * A second site with the same domain is most often a typo'd re-run; its events would be split
 * between two site ids. Tracking one domain into two funnels is the deliberate case: a flag.
 */
async function refuseDuplicateDomain(prisma: PrismaClient, workspaceId: string, domain: string): Promise<void> {
  const existing = (await listSites(prisma, workspaceId)).find((s) => s.domain === domain);
  if (!existing) return;
  throw new CommandFailedError(
    `workspace ${workspaceId} already has site ${existing.id} for ${domain}; use it, ` +
      "or pass --allow-duplicate-domain to create a second one (e.g. for another funnel)",
  );
}

export const siteList = defineCommand({
  name: "site list",
  summary: "List a workspace's tracking sites (id, domain, funnel, name; tab-separated)",
  usage: "site list --workspace <id>",
  options: { workspace: { required: true } },
  input: z.object({ workspace: ZCliId }),
  async run({ db }, input) {
    await requireWorkspace(db, input.workspace);
    const sites = await listSites(db.prisma, input.workspace);
    return {
      text: sites.map((s) => [s.id, s.domain, s.funnelId, s.name].join("\t")).join("\n"),
      json: { workspaceId: input.workspace, sites: sites.map((s) => ({ ...s, createdAt: s.createdAt.toISOString() })) },
    };
  },
});

export const siteStripeSecret = defineCommand({
  name: "site stripe-secret",
  summary: "Set a site's Stripe webhook signing secret (stored encrypted with SECRETS_KEY, or the kept local key)",
  usage: "site stripe-secret --site <id> --secret <whsec_…|->",
  options: { site: { required: true }, secret: { required: true } },
  input: z.object({ site: ZCliId, secret: ZStripeWebhookSecret }),
  async run({ db, secrets }, input) {
    const { key, keyConfigured, keptIn } = await secrets();
    // A random per-process key would seal a secret that the server can never read.
    if (!keyConfigured && !keptIn)
      throw new CommandFailedError("SECRETS_KEY is not set: the server could not read the secret");
    if (!(await setStripeWebhookSecret(db.prisma, key, { siteId: input.site, secret: input.secret })))
      throw new CommandFailedError(`no site ${input.site}`);
    return { text: input.site, json: { siteId: input.site, stripeWebhookSecretSet: true } };
  },
});

export const siteBrowserStageCeiling = defineCommand({
  name: "site browser-stage-ceiling",
  summary: `Set how far the tracking snippet's events may advance a stage (${BROWSER_STAGE_CEILINGS.join("|")})`,
  usage: `site browser-stage-ceiling --site <id> --stage <${BROWSER_STAGE_CEILINGS.join("|")}>`,
  options: { site: { required: true }, stage: { required: true } },
  input: z.object({
    site: ZCliId,
    stage: z
      .string()
      .trim()
      .toUpperCase()
      .pipe(z.enum(BROWSER_STAGE_CEILINGS, `must be one of ${BROWSER_STAGE_CEILINGS.join(", ")} (never CUSTOMER)`)),
  }),
  async run({ db }, input) {
    if (!(await setBrowserStageCeiling(db.prisma, { siteId: input.site, ceiling: input.stage })))
      throw new CommandFailedError(`no site ${input.site}`);
    return { text: input.site, json: { siteId: input.site, browserStageCeiling: input.stage } };
  },
});

export const siteIdentity = defineCommand({
  name: "site identity",
  summary:
    "Require (--require) or stop requiring (--off) identity verification of the site's browser emails; " +
    "prints the secret when one is created (first --require) or rotated (--rotate), and never again",
  usage: "site identity --site <id> --require|--off [--rotate]",
  options: {
    site: { required: true },
    require: { required: false, switch: true },
    off: { required: false, switch: true },
    rotate: { required: false, switch: true },
  },
  input: z
    .object({
      site: ZCliId,
      require: z.boolean().optional(),
      off: z.boolean().optional(),
      rotate: z.boolean().optional(),
    })
    .refine((i) => i.require !== i.off, { path: ["require"], message: "give exactly one of --require or --off" }),
  async run({ db, secrets }, input) {
    const { key, keyConfigured, keptIn } = await secrets();
    // A random per-process key would seal a secret that the server can never read.
    if (!keyConfigured && !keptIn)
      throw new CommandFailedError("SECRETS_KEY is not set: the server could not read the secret");
    const change = await setIdentityVerification(db, key, {
      siteId: input.site,
      required: input.require === true,
      rotate: input.rotate === true,
    });
    if (!change) throw new CommandFailedError(`no site ${input.site}`);
    return { text: change.secret ?? change.siteId, json: change };
  },
});
