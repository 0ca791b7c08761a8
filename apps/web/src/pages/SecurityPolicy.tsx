import { useState, type FormEvent } from 'react';
import type { ApiClient } from '@mailroom/api-client';
import { useI18n } from '../i18n';
import { ApiError, must, type Me } from '../session';
import { ErrorBox, Loading, useFormAction, useLoad, useStatus } from '../ui';

type Policy = { requireMfa: boolean; resellerRequiresMfa?: boolean };

/**
 * The sign-in policy of the admin's own tenant (or, for a reseller's staff, of the reseller and
 * its tenants): require two-factor sign-in of every admin. Hidden for an account that may not
 * read it (the API answers 403) and for platform admins, who set it per reseller or tenant.
 */
export function SecurityPolicy({ client, me }: { client: ApiClient; me: Me }) {
  const { t } = useI18n();
  const scope = me.tenantId
    ? ({ kind: 'tenant', id: me.tenantId } as const)
    : me.resellerId
      ? ({ kind: 'reseller', id: me.resellerId } as const)
      : null;
  const [policy, reload] = useLoad(
    async (): Promise<Policy | null> => {
      if (!scope) return null;
      try {
        return scope.kind === 'tenant'
          ? must(
              await client.GET('/v1/tenants/{tenantId}/security-policy', { params: { path: { tenantId: scope.id } } }),
            )
          : must(
              await client.GET('/v1/resellers/{resellerId}/security-policy', {
                params: { path: { resellerId: scope.id } },
              }),
            );
      } catch (error) {
        if (error instanceof ApiError && error.status === 403) return null;
        throw error;
      }
    },
    `policy-${scope?.id ?? 'none'}`,
  );
  const [require, setRequire] = useState<boolean | null>(null);
  const action = useFormAction();
  const [statusLine, say] = useStatus();

  if (!scope) return null;
  if (policy.state === 'loading') return <Loading />;
  if (policy.state === 'error') return <ErrorBox error={policy.error} onRetry={reload} />;
  if (policy.data === null) return null;
  const current = require ?? policy.data.requireMfa;

  const save = (event: FormEvent) => {
    event.preventDefault();
    return action.run(async () => {
      const body = { requireMfa: current };
      if (scope.kind === 'tenant') {
        must(
          await client.PATCH('/v1/tenants/{tenantId}/security-policy', {
            params: { path: { tenantId: scope.id } },
            body,
          }),
        );
      } else {
        must(
          await client.PATCH('/v1/resellers/{resellerId}/security-policy', {
            params: { path: { resellerId: scope.id } },
            body,
          }),
        );
      }
      setRequire(null);
      say(t('security.policySaved'));
      reload();
    });
  };

  return (
    <section className="card" aria-labelledby="policy-heading">
      <h2 id="policy-heading">{t('security.policy')}</h2>
      {statusLine}
      {policy.data.resellerRequiresMfa && <p className="alert">{t('security.policyByReseller')}</p>}
      <form onSubmit={(e) => void save(e)}>
        <label className="check">
          <input
            type="checkbox"
            checked={current}
            aria-describedby="policy-hint"
            onChange={(e) => setRequire(e.target.checked)}
          />{' '}
          {t(scope.kind === 'tenant' ? 'security.policyTenant' : 'security.policyReseller')}
        </label>
        <p id="policy-hint" className="muted small">
          {t('security.policyHint')}
        </p>
        <button type="submit" className="button button-primary" disabled={action.busy}>
          {t('security.policySave')}
        </button>
        {action.error !== null && <ErrorBox error={action.error} />}
      </form>
    </section>
  );
}
