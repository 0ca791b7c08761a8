import type { AdminRole } from '@mailroom/db';
import { ALL_SCOPES, type Scope } from '@mailroom/core';

/** Who is calling: a person (JWT) or a machine (API key), and what it may do. */
export interface Principal {
  kind: 'user' | 'api_key';
  /** The user id or the API key id: the credential that rate limits and idempotency key on. */
  id: string;
  /** Email or key name, for the audit log. */
  label: string;
  role: AdminRole | 'api_key';
  platform: boolean;
  resellerId: string | null;
  tenantId: string | null;
  scopes: ReadonlySet<Scope>;
  /** Domains an API key is limited to; empty means every domain of its tenants. */
  domains: readonly string[];
  /** An API key's CIDR allowlist (empty: anywhere) and expiry; people have neither. */
  ipAllowlist: readonly string[];
  expiresAt: Date | null;
  ip: string;
  /** A person's login (refresh token family); null for API keys and enrolment tokens. */
  sessionId: string | null;
  /**
   * A person who passed the password under a policy requiring two-factor sign-in but has no
   * second factor yet: only the enrolment routes (`@Authenticated({ mfaEnrolment: true })`) answer.
   */
  mfaEnrolmentOnly: boolean;
}

/** The principal of an admin user, for use cases that run before any access token exists (sign-in). */
export function userPrincipal(
  user: { id: string; email: string; role: AdminRole; resellerId: string | null; tenantId: string | null },
  ip: string,
): Principal {
  return {
    kind: 'user',
    id: user.id,
    label: user.email,
    role: user.role,
    platform: user.role === 'platform_admin',
    resellerId: user.resellerId,
    tenantId: user.tenantId,
    scopes: new Set(scopesForRole(user.role)),
    domains: [],
    ipAllowlist: [],
    expiresAt: null,
    ip,
    sessionId: null,
    mfaEnrolmentOnly: false,
  };
}

const READ_SCOPES = ALL_SCOPES.filter((s) => s.endsWith(':read'));

/** People get scopes from their role: viewers read, every admin role reads and writes. */
export function scopesForRole(role: AdminRole): Scope[] {
  return role === 'tenant_viewer' ? READ_SCOPES : ALL_SCOPES;
}

/** True for platform and reseller credentials: those that manage tenants from above. */
export function managesTenants(p: Principal): boolean {
  return p.platform || (p.resellerId !== null && p.tenantId === null);
}

/**
 * Whether a credential is unrestricted enough to create something holding `scopes` with no
 * limits of its own (an admin user, a key without allowlist or expiry): a key may never mint a
 * credential broader than itself.
 */
export function coversUnrestricted(p: Principal, scopes: readonly string[]): boolean {
  if (p.kind === 'user') return true;
  return (
    p.domains.length === 0 &&
    p.ipAllowlist.length === 0 &&
    p.expiresAt === null &&
    scopes.every((s) => p.scopes.has(s as never))
  );
}
