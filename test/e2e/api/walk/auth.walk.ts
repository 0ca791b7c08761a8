import type { WalkModule } from './walk.types';

/** Two-factor sign-in, sessions and the sign-in policies of resellers and tenants. */
export const walk: WalkModule = {
  async setup(ctx) {
    const user = await ctx.db.prisma.adminUser.findUniqueOrThrow({ where: { email: ctx.victim.adminEmail } });
    const session = await ctx.db.prisma.refreshToken.findFirstOrThrow({ where: { userId: user.id } });
    return { sessionId: session.familyId };
  },
  bodies: {
    'POST /v1/auth/mfa/totp/start': {},
    'POST /v1/auth/mfa/totp/confirm': { code: '123456' },
    'POST /v1/auth/mfa/totp/disable': { password: 'a long enough password' },
    'POST /v1/auth/mfa/recovery-codes': { password: 'a long enough password' },
    'POST /v1/auth/sessions/end-others': {},
    'PATCH /v1/tenants/{tenantId}/security-policy': { requireMfa: true },
    'PATCH /v1/resellers/{resellerId}/security-policy': { requireMfa: true },
  },
};
