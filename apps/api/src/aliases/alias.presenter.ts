import type { Alias, Domain } from '@mailroom/db';
import type { AliasResponse } from './alias.dto';

export type AliasWithDomain = Alias & { domain: Pick<Domain, 'id' | 'name'> };

export function presentAlias(a: AliasWithDomain): AliasResponse {
  return {
    id: a.id,
    address: `${a.localPart}@${a.domain.name}`,
    localPart: a.localPart,
    domain: { id: a.domain.id, name: a.domain.name },
    catchAll: a.catchAll,
    destinations: a.destinations,
    enabled: a.enabled,
    description: a.description,
    system: a.system,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}
