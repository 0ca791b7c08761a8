import { Body, Controller, Get, Param, Patch } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated } from './authenticated.decorator';
import { ResellerSecurityPolicyResponse, SecurityPolicyDto, TenantSecurityPolicyResponse } from './mfa.dto';
import { MfaPolicyService } from './mfa-policy.service';
import { Caller, CurrentTenant, type CallContext } from './request-context';

@ApiTags('auth')
@Controller('v1')
export class SecurityPolicyController {
  constructor(private readonly policy: MfaPolicyService) {}

  @ApiOperation({ summary: "A tenant's sign-in policy" })
  @Get('tenants/:tenantId/security-policy')
  @Authenticated({ scope: 'tenants:read' })
  @ApiOkResponse({ type: TenantSecurityPolicyResponse })
  getTenant(@CurrentTenant() tenant: Tenant, @Param('tenantId') _id: string) {
    return this.policy.tenant(tenant);
  }

  @ApiOperation({ summary: 'Require (or stop requiring) two-factor sign-in of every admin of a tenant' })
  @Patch('tenants/:tenantId/security-policy')
  @Authenticated({ scope: 'tenants:write' })
  @ApiOkResponse({
    type: TenantSecurityPolicyResponse,
    description: 'Admins without 2FA are led to enrol at their next sign-in; their refresh tokens stop working',
  })
  setTenant(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _id: string,
    @Body() dto: SecurityPolicyDto,
  ) {
    return this.policy.setTenant(call, tenant, dto.requireMfa);
  }

  @ApiOperation({ summary: "A reseller's sign-in policy" })
  @Get('resellers/:resellerId/security-policy')
  @Authenticated({ tenantManagers: true, scope: 'tenants:read' })
  @ApiOkResponse({ type: ResellerSecurityPolicyResponse })
  getReseller(@Caller() call: CallContext, @Param('resellerId') resellerId: string) {
    return this.policy.reseller(call, resellerId);
  }

  @ApiOperation({ summary: 'Require two-factor sign-in of every admin of a reseller and of its tenants' })
  @Patch('resellers/:resellerId/security-policy')
  @Authenticated({ tenantManagers: true, scope: 'tenants:write' })
  @ApiOkResponse({ type: ResellerSecurityPolicyResponse })
  setReseller(@Caller() call: CallContext, @Param('resellerId') resellerId: string, @Body() dto: SecurityPolicyDto) {
    return this.policy.setReseller(call, resellerId, dto.requireMfa);
  }
}
