import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';

export const MIN_ADMIN_PASSWORD = 12;

const email = z
  .email('must be an email address')
  .max(320)
  .transform((v) => v.toLowerCase());
const password = z.string().min(MIN_ADMIN_PASSWORD, `must be at least ${MIN_ADMIN_PASSWORD} characters`).max(1024);

export const CreateTenantUserSchema = z
  .object({
    email,
    password,
    role: z.enum(['tenant_admin', 'tenant_viewer']),
    displayName: z.string().trim().max(200).optional(),
  })
  .strict();
export class CreateTenantUserDto extends createZodDto(CreateTenantUserSchema) {}

export const CreateResellerUserSchema = z
  .object({ email, password, displayName: z.string().trim().max(200).optional() })
  .strict();
export class CreateResellerUserDto extends createZodDto(CreateResellerUserSchema) {}

export const UserSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  displayName: z.string().nullable(),
  role: z.enum(['platform_admin', 'reseller_admin', 'tenant_admin', 'tenant_viewer']),
  resellerId: z.uuid().nullable(),
  tenantId: z.uuid().nullable(),
  disabled: z.boolean(),
  lastLoginAt: z.string().nullable(),
  createdAt: z.string(),
});
export class UserResponse extends createZodDto(UserSchema) {}
export class UserList extends createZodDto(
  z.object({ items: z.array(UserSchema), nextCursor: z.string().nullable() }),
) {}
