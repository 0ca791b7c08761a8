import { z } from 'zod';
import { createZodDto } from '../common/zod-dto';

export class MfaStatusResponse extends createZodDto(
  z.object({
    totpEnabled: z.boolean(),
    totpEnabledAt: z.string().nullable(),
    recoveryCodesRemaining: z.number().int().describe('Unused recovery codes (0 while TOTP is off)'),
    requiredByPolicy: z.boolean().describe('The reseller or tenant requires two-factor sign-in of this admin'),
    passkeyCount: z
      .number()
      .int()
      .describe('Registered passkeys (GET /v1/auth/mfa/passkeys); two-factor sign-in is on with TOTP or any passkey'),
  }),
) {}

export class TotpEnrolmentResponse extends createZodDto(
  z.object({
    secret: z.string().describe('The base32 secret, for typing into an app that cannot scan'),
    otpauthUri: z.string().describe('otpauth://totp/... (Key Uri Format)'),
    qrSvg: z.string().describe('The otpauth URI as a QR code, an SVG document'),
  }),
) {}

export const ConfirmTotpSchema = z
  .object({
    code: z
      .string()
      .trim()
      .regex(/^\d{6}$/, 'six digits')
      .describe('The code the app shows now'),
  })
  .strict();
export class ConfirmTotpDto extends createZodDto(ConfirmTotpSchema) {}

const TokenPairSchema = z.object({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number(),
  refreshToken: z.string(),
});

export class TotpConfirmedResponse extends createZodDto(
  z.object({
    recoveryCodes: z.array(z.string()).describe('Ten one-time codes, shown this once: store them offline'),
    tokens: TokenPairSchema.nullable().describe(
      'A full session when the caller used an enrolment token (mfa_enrolment_required); otherwise null',
    ),
  }),
) {}

export const ReauthenticateSchema = z
  .object({
    password: z.string().min(1).max(1024).optional(),
    code: z.string().trim().min(6).max(64).optional().describe('A TOTP code or a recovery code'),
  })
  .strict()
  .refine((v) => (v.password === undefined) !== (v.code === undefined), {
    message: 'send either password or code',
    path: ['password'],
  });
export class ReauthenticateDto extends createZodDto(ReauthenticateSchema) {}

export class RecoveryCodesResponse extends createZodDto(
  z.object({ recoveryCodes: z.array(z.string()).describe('Ten one-time codes, shown this once') }),
) {}

export class SessionList extends createZodDto(
  z.object({
    items: z.array(
      z.object({
        id: z.string().describe('The session id (its refresh token family)'),
        current: z.boolean().describe('The session of the calling access token'),
        createdAt: z.string().describe('When the sign-in happened'),
        lastUsedAt: z.string().describe('When its refresh token was last issued (every refresh renews it)'),
        expiresAt: z.string(),
        ip: z.string().nullable().describe('The address of the latest sign-in or refresh'),
        userAgent: z.string().nullable(),
      }),
    ),
  }),
) {}

export class EndedSessionsResponse extends createZodDto(z.object({ ended: z.number().int() })) {}

export const SecurityPolicySchema = z
  .object({ requireMfa: z.boolean().describe('Every admin must sign in with a second factor') })
  .strict();
export class SecurityPolicyDto extends createZodDto(SecurityPolicySchema) {}

export class ResellerSecurityPolicyResponse extends createZodDto(z.object({ requireMfa: z.boolean() })) {}

export class TenantSecurityPolicyResponse extends createZodDto(
  z.object({
    requireMfa: z.boolean(),
    resellerRequiresMfa: z.boolean().describe("The tenant's reseller requires 2FA of every admin of its tenants"),
  }),
) {}
