import type { Config } from './config.schema';

/** The relying party a passkey is bound to. */
export interface WebAuthnRelyingParty {
  /** The domain the credential is scoped to (WebAuthn §5.1.4: a registrable suffix of the origin's host). */
  rpId: string;
  /** Origins whose signatures are accepted (clientDataJSON.origin). */
  origins: string[];
  /** The name an authenticator shows beside the account. */
  rpName: string;
}

/** The Vite development server's default port (apps/web/vite.config.ts), which proxies the API. */
const WEB_DEV_PORT = 5173;

/**
 * WEBAUTHN_RP_ID and WEBAUTHN_ORIGIN, or what PUBLIC_API_URL implies: its origin and host name.
 * Without PUBLIC_API_URL (development) the dashboard is at http://localhost on the API's port or on
 * the Vite server's; `localhost` because an IP address is never a valid RP ID.
 */
export function webauthnRelyingParty(config: Config): WebAuthnRelyingParty {
  const origins =
    config.WEBAUTHN_ORIGIN ??
    (config.PUBLIC_API_URL
      ? [new URL(config.PUBLIC_API_URL).origin]
      : [`http://localhost:${config.API_PORT}`, `http://localhost:${WEB_DEV_PORT}`]);
  const rpId = config.WEBAUTHN_RP_ID ?? new URL(origins[0]!).hostname;
  return { rpId, origins, rpName: 'Mailroom' };
}
