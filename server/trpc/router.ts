import { router } from "./init.ts";
import { create as createApiKey } from "./api-keys/create.ts";
import { list as listApiKeys } from "./api-keys/list.ts";
import { revoke as revokeApiKey } from "./api-keys/revoke.ts";
import { login } from "./auth/login.ts";
import { logout } from "./auth/logout.ts";
import { me } from "./auth/me.ts";
import { get } from "./profiles/get.ts";
import { lookup } from "./profiles/lookup.ts";
import { listEvents } from "./tracking/list-events.ts";
import { collectStats } from "./sites/collect-stats.ts";
import { list as listSites } from "./sites/list.ts";
import { setBrowserStageCeiling } from "./sites/set-browser-stage-ceiling.ts";
import { setIdentityVerification } from "./sites/set-identity-verification.ts";
import { setStripeSecret } from "./sites/set-stripe-secret.ts";
import { recordServerEvents } from "./tracking/record-server-events.ts";

/** The one router both transports serve: tRPC at /api/trpc, REST (OpenAPI) at /api. */
export const appRouter = router({
  auth: router({ login, logout, me }),
  tracking: router({ recordServerEvents, listEvents }),
  profiles: router({ lookup, get }),
  apiKeys: router({ create: createApiKey, list: listApiKeys, revoke: revokeApiKey }),
  sites: router({ list: listSites, collectStats, setStripeSecret, setBrowserStageCeiling, setIdentityVerification }),
});

export type AppRouter = typeof appRouter;
