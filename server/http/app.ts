import express, { type Express } from "express";
import type { Store } from "express-session";
import swaggerUi from "swagger-ui-express";
import { createExpressMiddleware } from "@trpc/server/adapters/express";
import { createOpenApiExpressMiddleware } from "trpc-to-openapi";
import type { TRedis } from "../infra/redis.ts";
import { createContextInner, type TDeps } from "../trpc/context.ts";
import { appRouter } from "../trpc/router.ts";
import { csrfGuard } from "./csrf.ts";
import { jsonErrorHandler } from "./errors.ts";
import { healthRoutes } from "./health.ts";
import { requestObservability } from "./observability.ts";
import { buildOpenApiDocument, copyQueryScopeIntoBody } from "./openapi.ts";
import { sessionHandle, sessionMiddleware } from "./session.ts";

export type TAppOptions = { deps: TDeps; sessionStore: Store; redis?: TRedis; isShuttingDown?: () => boolean };

/**
 * Assembles the HTTP surface. Order matters: tRPC is mounted before express.json (it reads its
 * own body, with a limit), the OpenAPI handler last under /api because it never calls next().
 */
export function createApp({ deps, sessionStore, redis, isShuttingDown = () => false }: TAppOptions): Express {
  const { config, logger, metrics } = deps;
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", config.trustProxy);
  app.set("query parser", "simple");

  app.use(requestObservability(logger, metrics));
  app.use(healthRoutes({ db: deps.db, redis, metrics, isShuttingDown }));

  const openApiDocument = buildOpenApiDocument(appRouter, {
    baseUrl: `${config.publicUrl ?? ""}/api`,
    cookieName: config.session.cookieName,
    serverEventsLimit: config.limits.serverEvents,
  });
  app.get("/api/openapi.json", (_req, res) => void res.json(openApiDocument));
  app.use("/api/docs", swaggerUi.serve, swaggerUi.setup(openApiDocument, { customSiteTitle: "Server-side events API" }));

  app.use("/api", sessionMiddleware(config, sessionStore), csrfGuard(config.allowedOrigins, config.publicUrl));
  const createContext = ({ req, res }: { req: express.Request; res: express.Response }) =>
    createContextInner(deps, {
      requestId: res.locals.requestId as string,
      ip: req.ip ?? req.socket.remoteAddress ?? "unknown",
      session: sessionHandle(req, res, config.session.cookieName),
      setHeader: (name, value) => res.setHeader(name, value),
    });
  const onError = ({ error, path }: { error: { code: string; cause?: unknown }; path?: string }) => {
    if (error.code === "INTERNAL_SERVER_ERROR") logger.error("procedure failed", { path, err: error.cause ?? error });
  };

  app.use("/api/trpc", createExpressMiddleware({ router: appRouter, createContext, onError, maxBodySize: config.limits.bodyBytes }));
  app.use("/api", express.json({ limit: config.limits.bodyBytes, type: ["application/json", "application/*+json"] }), copyQueryScopeIntoBody);
  app.use("/api", createOpenApiExpressMiddleware({ router: appRouter, createContext, onError, maxBodySize: config.limits.bodyBytes }));

  app.use((req, res) => void res.status(404).json({ message: `No route for ${req.method} ${req.path}`, code: "NOT_FOUND" }));
  app.use(jsonErrorHandler(logger));
  return app;
}
