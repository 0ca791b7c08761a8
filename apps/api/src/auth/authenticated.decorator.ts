import { applyDecorators, SetMetadata } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtension,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Scope } from '@mailroom/core';

export const AUTH_METADATA = 'mailroom:auth';
export const ALLOW_SUSPENDED_EXTENSION = 'x-mailroom-allow-suspended';

export interface AuthRequirement {
  /** The scope the credential needs (people get theirs from their role). */
  scope?: Scope;
  /** Only platform admins. */
  platformOnly?: boolean;
  /** Only platform and reseller credentials (not a tenant's own). */
  tenantManagers?: boolean;
  /** A write that a reseller may still make on a suspended tenant (suspend, resume, delete). */
  allowSuspended?: boolean;
  /**
   * Also open to an enrolment-only token: an admin whose reseller or tenant requires two-factor
   * sign-in and who has none yet may reach these routes (and no others) to set one up.
   */
  mfaEnrolment?: boolean;
}

/** Declares who may call a route. Routes without it are public only when marked @Public(). */
export function Authenticated(requirement: AuthRequirement = {}): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(AUTH_METADATA, requirement),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'Missing, expired or revoked credential (problem+json)' }),
    ApiForbiddenResponse({ description: 'The credential lacks the scope or role (problem+json)' }),
    ApiNotFoundResponse({ description: 'No such object for this credential (problem+json)' }),
    ApiTooManyRequestsResponse({
      description: 'The credential’s rate limit is reached; see Retry-After (problem+json)',
    }),
    // openapi.ts documents 423 on a tenant's writes except these (it knows the method, we do not).
    ...(requirement.allowSuspended ? [ApiExtension(ALLOW_SUSPENDED_EXTENSION, true)] : []),
  );
}

export const PUBLIC_METADATA = 'mailroom:public';
export const PUBLIC_EXTENSION = 'x-mailroom-public';
/** A route anyone may call (health, login, client autoconfiguration). */
export const Public = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(PUBLIC_METADATA, true),
    // Becomes `security: []` in the document (openapi.ts): no credential, said explicitly.
    ApiExtension(PUBLIC_EXTENSION, true),
  );

export const DOMAIN_SCOPED_METADATA = 'mailroom:domain-scoped';
/**
 * Marks a controller whose every route enforces an API key's domain limit itself (lists are
 * filtered, objects in other domains refused). Tenant-wide routes lack it, and a key limited to
 * some domains is refused there: tenant-wide data (deliveries, audit log, webhooks) is beyond it.
 */
export const DomainScoped = (): ClassDecorator => SetMetadata(DOMAIN_SCOPED_METADATA, true);
