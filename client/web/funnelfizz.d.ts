/**
 * The tracking snippet's API on the host page. Calls made before the snippet has loaded are kept
 * in `funnelfizz.q` by the one-line stub of the install code and replayed in order.
 */
type TFunnelfizzCommand =
  | [command: "event", name: string, props?: Record<string, unknown>]
  | [
      command: "identify",
      email: string,
      traits?: Record<string, unknown> | null,
      /** `emailHmac`: your backend's HMAC of the email, for a site that requires identity verification. */
      options?: { emailHmac?: string },
    ];

interface Window {
  funnelfizz: ((...command: TFunnelfizzCommand) => void) & { q?: TFunnelfizzCommand[] };
}
