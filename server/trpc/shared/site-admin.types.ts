/** What every ADMIN write to a site's settings answers when it refuses (OpenAPI error responses). */
export const SITE_ADMIN_ERRORS = {
  400: "Invalid input; `data.issues` names the field",
  401: "No valid session",
  403: "Not an ADMIN of the workspace, the site is not the workspace's, or a cross-site Origin",
  503: "Session store or database temporarily unavailable",
};
