import { randomBytes, randomUUID } from 'node:crypto';
import { Conflict, LimitExceeded, NotFound, seal, ValidationFailed } from '@mailroom/core';
import { dkimSelector, generateDkimKeyPair, mtaStsIdFor, normalizeDomain } from '@mailroom/dns';
import { Prisma, type DkimKey, type Domain } from '@mailroom/db';
import type { PlatformDns } from './platform-dns';

export const DKIM_KEY_CONTEXT = (keyId: string) => `dkim:${keyId}`;

export interface AddDomainInput {
  tenantId: string;
  name: string;
  /** Name or id of another domain of the tenant: mail to x@this goes where x@target goes. */
  aliasOf?: string | undefined;
}

/** A new DKIM key pair, its private key sealed with MASTER_KEY and bound to the key's id. */
export async function newDkimKey(masterKey: Buffer, now: Date, taken: readonly string[]) {
  const id = randomUUID();
  const pair = await generateDkimKeyPair();
  return {
    id,
    selector: dkimSelector(now, taken),
    publicKey: pair.publicKey,
    privateKeyEncrypted: seal(masterKey, pair.privateKeyPem, DKIM_KEY_CONTEXT(id)),
  };
}

/**
 * Adds a domain to a tenant: validated name (IDN to punycode, no public suffix, none of the
 * platform's), the plan limit, global uniqueness (409 without saying who holds it), an
 * ownership token, an MTA-STS id and a first DKIM key. Runs in the caller's transaction.
 */
export async function addDomain(
  tx: Prisma.TransactionClient,
  platform: PlatformDns,
  masterKey: Buffer,
  input: AddDomainInput,
  now = new Date(),
): Promise<{ domain: Domain; key: DkimKey }> {
  const normalized = normalizeDomain(input.name, { platformDomains: platform.platformDomains });
  if (!normalized.ok) {
    throw new ValidationFailed('The request has invalid fields.', [{ field: 'name', message: normalized.message }]);
  }

  // Lock the tenant row: two concurrent adds cannot both squeeze under the limit.
  const [tenant] = await tx.$queryRaw<{ max_domains: number }[]>`
    SELECT max_domains FROM tenants WHERE id = ${input.tenantId}::uuid FOR UPDATE`;
  if (!tenant) throw new NotFound(`Tenant ${input.tenantId} not found.`);
  const count = await tx.domain.count({ where: { tenantId: input.tenantId, deletedAt: null } });
  if (count >= tenant.max_domains) {
    throw new LimitExceeded(`Plan limit reached: maxDomains is ${tenant.max_domains} for this tenant.`, {
      limit: 'maxDomains',
      value: tenant.max_domains,
    });
  }

  let aliasOfId: string | null = null;
  if (input.aliasOf) {
    const target = await tx.domain.findFirst({
      where: {
        tenantId: input.tenantId,
        deletedAt: null,
        OR: [
          { name: input.aliasOf.toLowerCase() },
          ...(/^[0-9a-f-]{36}$/i.test(input.aliasOf) ? [{ id: input.aliasOf }] : []),
        ],
      },
    });
    if (!target) {
      throw new ValidationFailed('The request has invalid fields.', [
        { field: 'aliasOf', message: `${input.aliasOf} is not a domain of this tenant` },
      ]);
    }
    if (target.aliasOfId) {
      throw new ValidationFailed('The request has invalid fields.', [
        { field: 'aliasOf', message: `${target.name} is itself an alias; point at the domain it aliases` },
      ]);
    }
    aliasOfId = target.id;
  }

  const key = await newDkimKey(masterKey, now, []);
  try {
    const domain = await tx.domain.create({
      data: {
        tenantId: input.tenantId,
        name: normalized.ascii,
        unicodeName: normalized.unicode,
        ownershipToken: randomBytes(16).toString('hex'),
        aliasOfId,
        mtaStsId: mtaStsIdFor(now),
        nextCheckAt: now,
      },
    });
    const dkim = await tx.dkimKey.create({ data: { tenantId: input.tenantId, domainId: domain.id, ...key } });
    return { domain, key: dkim };
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
      throw new Conflict(`The domain ${normalized.ascii} is already hosted on this platform.`);
    }
    throw err;
  }
}
