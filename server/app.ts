import express, { type Express } from "express";
import type { Store } from "express-session";
import { createExpressMiddleware } from "@trpc/server/adapters/express";
import { createOpenApiExpressMiddleware } from "trpc-to-openapi";
import { DomainError } from "./errors/domain-error.ts";
import type { TRedis } from "./infra/redis.ts";
import type { TDeps } from "./deps.ts";
import { createContextInner } from "./trpc/context.ts";
import { appRouter } from "./trpc/router.ts";
import { mcpRoutes } from "./http/mcp.ts";
import { stripeWebhookRoutes } from "./http/stripe-webhook.ts";
import { jsonBody } from "./http/body.ts";
import { collectRoutes } from "./http/collect.ts";
import { clientIp } from "./http/client-ip.ts";
import { csrfGuard } from "./http/csrf.ts";
import { dashboardRoutes } from "./http/dashboard.ts";
import { jsonErrorHandler, sendError } from "./http/errors.ts";
import { healthRoutes } from "./http/health.ts";
import { metricsRoutes } from "./http/metrics.ts";
import { requestObservability } from "./http/observability.ts";
import { docsRoutes } from "./http/docs.ts";
import { copyQueryScopeIntoBody, oneErrorShape } from "./http/openapi.ts";
import { noStore, securityHeaders } from "./http/security-headers.ts";
import { sessionHandle, sessionMiddleware } from "./http/session.ts";
import { snippetRoutes } from "./http/snippet.ts";

export type TAppOptions = { deps: TDeps; sessionStore: Store; redis?: TRedis; isShuttingDown?: () => boolean };

/**
 * Assembles the HTTP surface. Order matters: one body reader serves both transports (so they
 * accept and refuse the same bodies), the OpenAPI handler comes last under /api because it never
 * calls next().
 */
export function createApp({ deps, sessionStore, redis, isShuttingDown = () => false }: TAppOptions): Express {
  const { config, logger, metrics } = deps;
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", config.trustProxy);
  app.set("query parser", "simple");

  app.use(requestObservability(logger, metrics));
  app.use(securityHeaders());
  app.use(healthRoutes({ db: deps.db, redis, isShuttingDown }));
  // Without a token /metrics is not on this port at all, only on the metrics listener (main.ts).
  if (config.metrics.token) app.use(metricsRoutes(metrics, config.metrics.token));

  app.use(docsRoutes(config));
  app.use(snippetRoutes(config.webDir));
  app.use("/app", dashboardRoutes(config.webDir));

  // API-key door, before (and apart from) the session middleware: it never reads a cookie.
  app.use("/mcp", mcpRoutes(deps));
  // Stripe's door: signed raw bytes, so before the session, the CSRF guard and the JSON body reader.
  app.use("/api/webhooks/stripe", stripeWebhookRoutes(deps));
  // The tracking snippet's door: public, checked against the site's domain (not a session), so before both too.
  app.use("/api/collect", collectRoutes(deps));

  app.use("/api", noStore, sessionMiddleware(config, sessionStore), csrfGuard(config.allowedOrigins, config.publicUrl));
  const createContext = ({ req, res }: { req: express.Request; res: express.Response }) =>
    createContextInner(deps, {
      requestId: res.locals.requestId as string,
      ip: clientIp(req),
      session: sessionHandle(req, res, config.session.cookieName, config.session.secret),
      setHeader: (name, value) => res.setHeader(name, value),
    });
  // The only place an internal error's message and stack go: the body names just the request id.
  type TOnError = { error: { code: string; cause?: unknown }; path?: string; ctx?: { requestId: string } };
  const onError = ({ error, path, ctx }: TOnError) => {
    if (error.code === "INTERNAL_SERVER_ERROR")
      logger.error("procedure failed", { path, requestId: ctx?.requestId, err: error.cause ?? error });
  };

  app.use("/api", jsonBody(config.limits.bodyBytes, deps));
  app.use(
    "/api/trpc",
    createExpressMiddleware({ router: appRouter, createContext, onError, maxBodySize: config.limits.bodyBytes }),
  );
  app.use("/api", copyQueryScopeIntoBody, oneErrorShape);
  app.use(
    "/api",
    createOpenApiExpressMiddleware({ router: appRouter, createContext, onError, maxBodySize: config.limits.bodyBytes }),
  );

  // The root is where a person lands first: the docs page links everything else.
  app.get("/", (_req, res) => res.redirect(302, "/api/docs/"));
  app.use((req, res) => sendError(req, res, new DomainError("NOT_FOUND", `No route for ${req.method} ${req.path}`)));
  app.use(jsonErrorHandler(logger, metrics));
  return app;
}
