import type { FieldProblem } from '@mailroom/core';
import { parseMailAddress } from '@mailroom/mail';
import type { AddressGraph } from './alias.repository';

/** Deeper chains than this are refused: the MTA expands at most this many aliases. */
export const MAX_ALIAS_DEPTH = 10;

export interface Destination {
  index: number;
  /** As stored: local part lower-cased for our own domains, as given elsewhere. */
  address: string;
  localKey: string;
  domain: string;
}

/** Parses each destination; problems name `destinations.N`. No database. */
export function parseDestinations(raw: readonly string[], smtputf8: boolean) {
  const problems: FieldProblem[] = [];
  const parsed: Destination[] = [];
  raw.forEach((text, index) => {
    const field = `destinations.${index}`;
    const result = parseMailAddress(text, { smtputf8 });
    if (!result.ok) return problems.push({ field, message: result.message });
    const { localPart, localKey, domain } = result.value;
    if (localPart === '*') return problems.push({ field, message: 'a catch-all cannot be a destination' });
    const key = `${localKey}@${domain}`;
    const first = parsed.find((d) => `${d.localKey}@${d.domain}` === key);
    if (first) return problems.push({ field, message: `repeats destinations.${first.index}` });
    parsed.push({ index, address: `${localPart}@${domain}`, localKey, domain });
  });
  return { parsed, problems };
}

interface Source {
  domainId: string;
  localKey: string;
  /** The alias being changed (its stored edges are replaced by the new ones). */
  aliasId: string | null;
}

/**
 * Checks destinations against the tenant's address graph (read in the tenant's transaction):
 * - a destination in a domain hosted by another tenant of the platform is refused (`foreign`);
 * - one in the tenant's own domains must be an existing mailbox or alias;
 * - following aliases (and catch-alls) from the destinations must never come back to the
 *   source, and never be longer than {@link MAX_ALIAS_DEPTH}.
 * Returns the problems (fields `destinations.N`) and the addresses to store.
 */
export function checkDestinations(
  { domains, aliases, mailboxes }: AddressGraph,
  source: Source,
  destinations: Destination[],
  foreign: ReadonlySet<string>,
): { problems: FieldProblem[]; addresses: string[] } {
  const byName = new Map(domains.map((d) => [d.name, d.aliasOfId ?? d.id]));
  const nameOf = new Map(domains.map((d) => [d.id, d.name]));
  const nodeOf = (local: string, domain: string): string | null => {
    const id = byName.get(domain);
    return id ? `${id}:${local.toLowerCase()}` : null;
  };
  const edges = new Map<string, string[]>();
  const addEdges = (from: string, to: readonly string[]) => {
    edges.set(
      from,
      to.flatMap((address) => {
        const at = address.lastIndexOf('@');
        const node = nodeOf(address.slice(0, at), address.slice(at + 1));
        return node ? [node] : [];
      }),
    );
  };
  for (const a of aliases) if (a.id !== source.aliasId) addEdges(`${a.domainId}:${a.localPart}`, a.destinations);
  const boxes = new Set(mailboxes.map((m) => `${m.domainId}:${m.localPart}`));
  const sourceNode = `${source.domainId}:${source.localKey}`;
  const label = (node: string) => {
    const [id, local] = node.split(':') as [string, string];
    return `${local}@${nameOf.get(id) ?? '?'}`;
  };
  // Mail to an address with neither mailbox nor alias goes to the domain's catch-all.
  const next = (node: string): string[] => {
    const own = edges.get(node);
    if (own) return own;
    if (boxes.has(node) || node.endsWith(':*')) return [];
    const catchAll = `${node.split(':')[0]}:*`;
    return edges.has(catchAll) || catchAll === sourceNode ? [catchAll] : [];
  };
  const seen = new Set<string>();
  const walk = (node: string, path: string[]): string | null => {
    if (node === sourceNode) return `forms a loop: ${[sourceNode, ...path].map(label).join(' → ')}`;
    if (path.length > MAX_ALIAS_DEPTH) return `leads through more than ${MAX_ALIAS_DEPTH} aliases`;
    if (seen.has(node)) return null;
    seen.add(node);
    for (const n of next(node)) {
      const problem = walk(n, [...path, n]);
      if (problem) return problem;
    }
    return null;
  };

  const problems: FieldProblem[] = [];
  const addresses: string[] = [];
  for (const d of destinations) {
    const field = `destinations.${d.index}`;
    const node = nodeOf(d.localKey, d.domain);
    if (!node) {
      if (foreign.has(d.domain)) {
        problems.push({
          field,
          message: `${d.domain} is a foreign domain: it is hosted here by another tenant, so aliases cannot point to it`,
        });
      }
      addresses.push(d.address);
      continue;
    }
    const local = `${d.localKey}@${d.domain}`;
    addresses.push(local);
    if (!edges.has(node) && !boxes.has(node) && node !== sourceNode) {
      problems.push({ field, message: `${local} is neither a mailbox nor an alias of this tenant` });
      continue;
    }
    const loop = walk(node, [node]);
    if (loop) problems.push({ field, message: loop });
  }
  return { problems, addresses };
}
