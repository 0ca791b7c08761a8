import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';

const name = z.string().trim().min(1, 'must not be empty').max(200);
const maxTenants = z.number().int().min(0).max(10_000_000).nullable().describe('null: no limit');

export const CreateResellerSchema = z.object({ name, maxTenants: maxTenants.optional() }).strict();
export class CreateResellerDto extends createZodDto(CreateResellerSchema) {}

export const UpdateResellerSchema = z
  .object({
    name: name.optional(),
    maxTenants: maxTenants.optional(),
    status: z.enum(['active', 'suspended']).optional(),
  })
  .strict();
export class UpdateResellerDto extends createZodDto(UpdateResellerSchema) {}

export const ResellerSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  status: z.enum(['active', 'suspended']),
  maxTenants: z.number().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export class ResellerResponse extends createZodDto(ResellerSchema) {}
export class ResellerList extends createZodDto(
  z.object({ items: z.array(ResellerSchema), nextCursor: z.string().nullable() }),
) {}
