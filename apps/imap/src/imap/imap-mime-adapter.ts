import { MIME_STRUCTURE_VERSION, parseMimeStructure } from '../mime';
import type { MimeNode } from '../mime/mime-node';
import { fetchNeeds, fetchSetsSeen, parseFetchItems, type FetchItem } from './fetch-items';
import { renderFetch } from './fetch-render';
import type { ImapMime } from './imap-mime';
import { parseSearch } from './search-parser';

/** The mime helper's FETCH renderer and SEARCH parser (contracts §5) behind the session's port. */
export const imapMime: ImapMime<FetchItem[]> = {
  parseFetchItems,
  fetchSetsSeen,
  fetchHasFlags: (items) => items.some((i) => i.type === 'simple' && i.name === 'FLAGS'),
  fetchNeeds,
  renderFetch: (items, src, opts) =>
    renderFetch(items, { ...src, structure: async () => (await src.structure()) as MimeNode }, opts),
  parseMimeStructure,
  isCurrentStructure: (tree) =>
    typeof tree === 'object' && tree !== null && (tree as MimeNode).version === MIME_STRUCTURE_VERSION,
  parseSearch,
};
