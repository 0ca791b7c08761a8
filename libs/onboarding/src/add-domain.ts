import { randomBytes, randomUUID } from 'node:crypto';
import { Conflict, LimitExceeded, NotFound, seal, ValidationFailed } from '@mailroom/core';
import { dkimSelector, generateDkimKeyPair, mtaStsIdFor, normalizeDomain } from '@mailroom/dns';
import { isUniqueViolation, type DkimKey, type Domain, type Tx } from '@mailroom/db';
import { DomainRepository } from './domain.repository';
import type { PlatformDns } from './platform-dns';

const domains = new DomainRepository();

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
  tx: Tx,
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
  const maxDomains = await domains.lockTenantLimit(tx, input.tenantId);
  if (maxDomains === undefined) throw new NotFound(`Tenant ${input.tenantId} not found.`);
  const count = await domains.countLive(tx, input.tenantId);
  if (count >= maxDomains) {
    throw new LimitExceeded(`Plan limit reached: maxDomains is ${maxDomains} for this tenant.`, {
      limit: 'maxDomains',
      value: maxDomains,
    });
  }

  let aliasOfId: string | null = null;
  if (input.aliasOf) {
    const target = await domains.findLiveByNameOrId(tx, input.tenantId, input.aliasOf);
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
    return await domains.create(
      tx,
      input.tenantId,
      {
        name: normalized.ascii,
        unicodeName: normalized.unicode,
        ownershipToken: randomBytes(16).toString('hex'),
        aliasOfId,
        mtaStsId: mtaStsIdFor(now),
        nextCheckAt: now,
      },
      key,
    );
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new Conflict(`The domain ${normalized.ascii} is already hosted on this platform.`);
    }
    throw err;
  }
}
