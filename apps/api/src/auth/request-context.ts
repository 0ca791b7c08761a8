import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Tenant } from '@mailroom/db';
import type { Principal } from './principal';

/** What the guard attaches to a request. */
export interface AuthedRequest extends Request {
  principal?: Principal;
  /** The tenant named by :tenantId, already checked to be visible to the principal. */
  tenant?: Tenant;
}

/** Request facts a service needs for the audit log. */
export interface CallContext {
  principal: Principal;
  requestId: string | undefined;
}

export const Caller = createParamDecorator((_: unknown, ctx: ExecutionContext): CallContext => {
  const req = ctx.switchToHttp().getRequest<AuthedRequest>();
  if (!req.principal) throw new Error('Caller used on a route without @Authenticated');
  return { principal: req.principal, requestId: req.id === undefined ? undefined : String(req.id) };
});

export const CurrentTenant = createParamDecorator((_: unknown, ctx: ExecutionContext): Tenant => {
  const req = ctx.switchToHttp().getRequest<AuthedRequest>();
  if (!req.tenant) throw new Error('CurrentTenant used on a route without :tenantId');
  return req.tenant;
});
