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
