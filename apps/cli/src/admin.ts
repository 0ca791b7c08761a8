import argon2 from 'argon2';
import { Conflict, PASSWORD_HASH_OPTIONS, ValidationFailed } from '@mailroom/core';
import type { CliRepository } from './cli.repository';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export const MIN_ADMIN_PASSWORD = 12;

/** Creates a platform admin. There is no default password: the operator chooses it here. */
export async function createPlatformAdmin(
  repo: CliRepository,
  email: string,
  password: string,
): Promise<{ id: string; email: string }> {
  const normalized = email.trim().toLowerCase();
  const problems = [];
  if (!EMAIL.test(normalized)) problems.push({ field: 'email', message: 'must be an email address' });
  if (password.length < MIN_ADMIN_PASSWORD) {
    problems.push({ field: 'password', message: `must be at least ${MIN_ADMIN_PASSWORD} characters` });
  }
  if (problems.length) throw new ValidationFailed('invalid admin', problems);
  const existing = await repo.findAdminByEmail(normalized);
  if (existing) throw new Conflict(`an admin with email ${normalized} already exists`);
  const passwordHash = await argon2.hash(password, PASSWORD_HASH_OPTIONS);
  const admin = await repo.createPlatformAdmin(normalized, passwordHash);
  return { id: admin.id, email: admin.email };
}
