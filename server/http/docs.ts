import { Router } from "express";
import swaggerUi from "swagger-ui-express";
import type { TConfig } from "../config.ts";
import { appRouter } from "../trpc/router.ts";
import { buildOpenApiDocument } from "./openapi.ts";
import { docsContentSecurityPolicy } from "./security-headers.ts";

/** The OpenAPI document at /api/openapi.json and Swagger UI at /api/docs: public, no session. */
export function docsRoutes(config: TConfig): Router {
  const routes = Router();
  const openApiDocument = buildOpenApiDocument(appRouter, {
    baseUrl: `${config.publicUrl ?? ""}/api`,
    cookieName: config.session.cookieName,
    serverEventsLimit: config.limits.serverEvents,
  });
  routes.get("/api/openapi.json", (_req, res) => void res.json(openApiDocument));
  routes.use(
    "/api/docs",
    docsContentSecurityPolicy(),
    swaggerUi.serve,
    // No validator badge: it would fetch an image from validator.swagger.io.
    swaggerUi.setup(openApiDocument, {
      customSiteTitle: "Server-side events API",
      // deepLinking: an operation can be linked to (#/tracking/tracking-recordServerEvents).
      swaggerOptions: { validatorUrl: null, deepLinking: true },
    }),
  );
  return routes;
}
