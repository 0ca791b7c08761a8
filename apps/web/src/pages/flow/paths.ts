/**
 * The mail-flow, activity and tenants pages' addresses, in the first bundle (the pages
 * themselves load on demand): App.tsx asks here which section a path belongs to.
 */
export const FLOW_TABS = ['/deliveries', '/trace', '/suppressions', '/webhooks', '/api-keys', '/audit-log'] as const;
export type FlowTab = (typeof FLOW_TABS)[number];

export type FlowSection = 'flow' | 'activity' | 'tenants';

export function flowSection(path: string): FlowSection | null {
  if (FLOW_TABS.some((tab) => path === tab || path.startsWith(`${tab}/`))) return 'flow';
  if (path === '/activity') return 'activity';
  if (path === '/tenants') return 'tenants';
  return null;
}
