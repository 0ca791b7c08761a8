/** Resource families an API key can be granted, each with read and write. */
export const SCOPE_RESOURCES = [
  'tenants',
  'domains',
  'mailboxes',
  'aliases',
  'filters',
  'ip-rules',
  'retention',
  'api-keys',
  'audit-log',
  'deliveries',
  'suppressions',
  'webhooks',
] as const;

export type ScopeResource = (typeof SCOPE_RESOURCES)[number];
export type Scope = `${ScopeResource}:${'read' | 'write'}`;

export const ALL_SCOPES: Scope[] = SCOPE_RESOURCES.flatMap((r) => [`${r}:read`, `${r}:write`] as Scope[]);

export function isScope(value: string): value is Scope {
  return (ALL_SCOPES as string[]).includes(value);
}
