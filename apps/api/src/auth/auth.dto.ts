import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';

export const LoginSchema = z
  .object({ email: z.string().trim().min(3).max(320), password: z.string().min(1).max(1024) })
  .strict();
export class LoginDto extends createZodDto(LoginSchema) {}

export const RefreshSchema = z.object({ refreshToken: z.string().min(1).max(200) }).strict();
export class RefreshDto extends createZodDto(RefreshSchema) {}

export class TokenPairResponse extends createZodDto(
  z.object({
    accessToken: z.string().describe('JWT; send as Authorization: Bearer <accessToken>'),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().describe('Seconds until the access token expires'),
    refreshToken: z.string().describe('Single use: each refresh returns a new one'),
  }),
) {}

export class MeResponse extends createZodDto(
  z.object({
    kind: z.enum(['user', 'api_key']),
    id: z.string(),
    label: z.string(),
    role: z.string(),
    resellerId: z.string().nullable(),
    tenantId: z.string().nullable(),
    scopes: z.array(z.string()),
    domains: z.array(z.string()),
  }),
) {}

const TokenPairFields = {
  accessToken: z.string().describe('JWT; send as Authorization: Bearer <accessToken>'),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().describe('Seconds until the access token expires'),
  refreshToken: z.string().describe('Single use: each refresh returns a new one'),
};

export class LoginAuthenticatedResponse extends createZodDto(
  z
    .object({ status: z.literal('authenticated'), ...TokenPairFields })
    .describe('Signed in: no second factor is set up or required'),
) {}

export class LoginMfaRequiredResponse extends createZodDto(
  z
    .object({
      status: z.literal('mfa_required'),
      mfaToken: z
        .string()
        .describe(
          'Send with a code to POST /v1/auth/login/mfa, or with a passkey assertion to POST ' +
            '/v1/auth/login/mfa/passkey (options from POST /v1/auth/login/mfa/passkey/options); good for `expiresIn` seconds',
        ),
      expiresIn: z.number(),
      methods: z
        .array(z.enum(['totp', 'recovery_code', 'passkey']))
        .describe('The second factors this admin has: `passkey` when at least one passkey is registered'),
    })
    .describe('The password is right; a second factor must follow'),
) {}

export class LoginEnrolmentRequiredResponse extends createZodDto(
  z
    .object({
      status: z.literal('mfa_enrolment_required'),
      enrolmentToken: z
        .string()
        .describe('A bearer token that reaches only GET /v1/auth/me and the /v1/auth/mfa enrolment routes'),
      expiresIn: z.number(),
      detail: z.string(),
    })
    .describe('The password is right, and the reseller or tenant requires 2FA this admin has not set up'),
) {}

/** The three answers of POST /v1/auth/login, told apart by `status`. */
export const LOGIN_RESPONSES = [
  LoginAuthenticatedResponse,
  LoginMfaRequiredResponse,
  LoginEnrolmentRequiredResponse,
] as const;

export const CompleteMfaSchema = z
  .object({
    mfaToken: z.string().min(1).max(2000),
    code: z.string().trim().min(6).max(64).describe('A 6-digit TOTP code, or a recovery code (xxxx-xxxx-xxxx)'),
  })
  .strict();
export class CompleteMfaDto extends createZodDto(CompleteMfaSchema) {}
