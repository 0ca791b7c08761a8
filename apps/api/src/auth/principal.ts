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
  ip: string;
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
