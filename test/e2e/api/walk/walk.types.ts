import type { TestDatabase } from '@test/support/database';
import type { Session } from '@test/support/api';

export type WalkTenant = Awaited<ReturnType<Session['newTenant']>>;
export type WalkReseller = Awaited<ReturnType<Session['newReseller']>>;

/** The victim of the isolation walk: a tenant under reseller A, with the session that made it. */
export interface WalkContext {
  session: Session;
  db: TestDatabase;
  victim: WalkTenant;
  victimReseller: WalkReseller;
}

/**
 * What the isolation walk (test/e2e/api/isolation.test.ts) needs to know about one module's
 * routes. Every module with routes adds a `<module>.walk.ts` here: the walk fails for a route
 * whose path parameter has no id or whose write has no sample body, so no route escapes it.
 */
export interface WalkModule {
  /** Creates the victim's objects; returns their ids by path parameter name ({mailboxId}...). */
  setup?(ctx: WalkContext): Promise<Record<string, string>>;
  /** A valid body per write route, keyed `METHOD /path/{param}` as in the OpenAPI document. */
  bodies: Record<string, unknown>;
}
