// The SEARCH AST and the message fields FETCH needs are the mail store's own types.
export type { MessageMeta, SearchQuery } from '@mailroom/mailstore';
