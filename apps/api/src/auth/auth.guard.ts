import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { Forbidden, Locked, RateLimited, Unauthenticated } from '@mailroom/core';
import { TenantAccessService } from '../tenants/tenant-access.service';
import {
  AUTH_METADATA,
  DOMAIN_SCOPED_METADATA,
  PUBLIC_METADATA,
  type AuthRequirement,
} from './authenticated.decorator';
import { CredentialService } from './credential.service';
import { managesTenants } from './principal';
import type { AuthedRequest } from './request-context';
import { ThrottleService } from './throttle.service';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Requests that may authenticate from the CredentialCache. */
export const READ_METHODS = new Set(['GET', 'HEAD']);

/** The client address, IPv4-mapped IPv6 written as plain IPv4. */
export function clientIp(req: AuthedRequest): string {
  const ip = req.ip ?? req.socket.remoteAddress ?? '';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/**
 * The one place that decides who may call a route, in this order: authenticate, rate limit
 * the credential, tenant visibility (404, before anything that could tell an existing tenant
 * from a missing one), tenant suspension (423), role and scope (403).
 * Every route must say @Public() or @Authenticated(); anything else is refused.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly credentials: CredentialService,
    private readonly throttle: ThrottleService,
    private readonly tenants: TenantAccessService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_METADATA, targets)) return true;
    const requirement = this.reflector.getAllAndOverride<AuthRequirement>(AUTH_METADATA, targets);
    if (!requirement) throw new Forbidden('This route declares no access rule.');

    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const res = context.switchToHttp().getResponse<Response>();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      throw new Unauthenticated('Authentication required: send Authorization: Bearer <access token or API key>.');
    }
    const tenantId: unknown = req.params.tenantId;
    const { principal, tenant: pathTenant } = await this.credentials.authenticate(
      match[1],
      clientIp(req),
      typeof tenantId === 'string' ? tenantId : null,
      READ_METHODS.has(req.method),
    );
    req.principal = principal;
    if (principal.mfaEnrolmentOnly && requirement.mfaEnrolment !== true) {
      throw new Forbidden(
        'Your organisation requires two-factor sign-in: set it up first (POST /v1/auth/mfa/totp/start, ' +
          'then POST /v1/auth/mfa/totp/confirm), then use the tokens that answer.',
      );
    }

    const rate = await this.throttle.request(principal.id);
    res.setHeader('RateLimit-Limit', String(rate.limit));
    res.setHeader('RateLimit-Remaining', String(rate.remaining));
    res.setHeader('RateLimit-Reset', String(rate.resetSeconds));
    if (!rate.allowed) {
      throw new RateLimited(
        `Rate limit of ${rate.limit} requests a minute reached for this credential.`,
        rate.resetSeconds,
      );
    }

    if (typeof tenantId === 'string') {
      const tenant = this.tenants.check(principal, tenantId, pathTenant);
      req.tenant = tenant;
      // Suspend, resume, delete and restore stay open; the role check below still applies.
      const exempt = requirement.allowSuspended === true;
      if (tenant.status !== 'active' && WRITE_METHODS.has(req.method) && !exempt) {
        throw new Locked(
          tenant.status === 'suspended'
            ? `Tenant ${tenant.id} is suspended: changes are refused until it is resumed; reads still work.`
            : `Tenant ${tenant.id} is deleted: restore it before changing anything.`,
        );
      }
    }

    if (requirement.platformOnly && !principal.platform) throw new Forbidden('Only platform admins may do this.');
    if (requirement.tenantManagers && !managesTenants(principal)) {
      throw new Forbidden('Only the platform or the tenant’s reseller may do this.');
    }
    const tenantRoute = typeof req.params.tenantId === 'string';
    if (
      tenantRoute &&
      principal.domains.length > 0 &&
      !this.reflector.getAllAndOverride<boolean>(DOMAIN_SCOPED_METADATA, targets)
    ) {
      throw new Forbidden(
        `This API key is limited to ${principal.domains.join(', ')}; tenant-wide data is out of its reach.`,
      );
    }
    if (requirement.scope && !principal.scopes.has(requirement.scope)) {
      throw new Forbidden(`This credential lacks the scope ${requirement.scope}.`);
    }
    return true;
  }
}
