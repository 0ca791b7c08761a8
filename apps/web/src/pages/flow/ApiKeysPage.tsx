import { useState, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must, mustSucceed } from '../../session';
import { ErrorBox, Loading, PageTitle, useFormAction, useLoad, useStatus } from '../../ui';
import { FlowTabs } from './common';

type ApiKey = ApiSchema<'ApiKeyList'>['items'][number];
type Scope = ApiSchema<'CreateApiKeyDto'>['scopes'][number];
const RESOURCES = [
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
// Checked against the document's scope enum: a resource it does not know fails the typecheck.
const scopeOf = (resource: (typeof RESOURCES)[number], level: 'read' | 'write'): Scope => `${resource}:${level}`;

/** The tenant's API keys: created narrowed to scopes and domains, the key shown once, revoked. */
export function ApiKeysPage({ client, tenantId }: { client: ApiClient; tenantId: string }) {
  const { t, formatDate } = useI18n();
  const [line, showLine] = useStatus();
  const [list, reload] = useLoad(
    async () =>
      must(
        await client.GET('/v1/tenants/{tenantId}/api-keys', { params: { path: { tenantId }, query: { limit: 200 } } }),
      ).items,
    tenantId,
  );
  const revoking = useFormAction();
  const revoke = (key: ApiKey) =>
    revoking.run(async () => {
      mustSucceed(
        await client.DELETE('/v1/tenants/{tenantId}/api-keys/{keyId}', {
          params: { path: { tenantId, keyId: key.id } },
        }),
      );
      showLine(t('flow.keys.revoked', { name: key.name }));
      reload();
    });

  return (
    <section>
      <FlowTabs current="/api-keys" />
      <PageTitle>{t('flow.keys.title')}</PageTitle>
      <CreateKey client={client} tenantId={tenantId} onCreated={reload} />
      {line}
      {revoking.error !== null && <ErrorBox error={revoking.error} />}
      {list.state === 'loading' && <Loading />}
      {list.state === 'error' && <ErrorBox error={list.error} onRetry={reload} />}
      {list.state === 'ready' && list.data.length === 0 && <p className="empty">{t('flow.keys.empty')}</p>}
      {list.state === 'ready' && list.data.length > 0 && (
        <table className="table api-keys">
          <thead>
            <tr>
              <th scope="col">{t('flow.keys.name')}</th>
              <th scope="col">{t('flow.keys.scopes')}</th>
              <th scope="col">{t('flow.keys.domains')}</th>
              <th scope="col">{t('flow.keys.lastUsed')}</th>
              <th scope="col">{t('flow.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((key) => (
              <tr key={key.id}>
                <td data-label={t('flow.keys.name')}>
                  <strong>{key.name}</strong>
                  <div className="muted small">
                    <code>{key.prefix}…</code>
                  </div>
                  {key.revokedAt && <span className="badge badge-deleted">{t('flow.keys.isRevoked')}</span>}
                  {key.expiresAt && (
                    <div className="muted small">{t('flow.keys.expires', { date: formatDate(key.expiresAt) })}</div>
                  )}
                </td>
                <td data-label={t('flow.keys.scopes')}>
                  <span className="small">{key.scopes.join(', ')}</span>
                </td>
                <td data-label={t('flow.keys.domains')}>
                  {key.domains.length ? key.domains.join(', ') : t('flow.keys.allDomains')}
                </td>
                <td data-label={t('flow.keys.lastUsed')}>
                  {key.lastUsedAt ? formatDate(key.lastUsedAt) : t('domains.never')}
                  {key.lastUsedIp && <div className="muted small">{key.lastUsedIp}</div>}
                </td>
                <td data-label={t('flow.actions')}>
                  {!key.revokedAt && (
                    <button
                      type="button"
                      className="button button-small button-danger"
                      disabled={revoking.busy}
                      aria-label={t('flow.keys.revokeLabel', { name: key.name })}
                      onClick={() => void revoke(key)}
                    >
                      {t('mailbox.revoke')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function CreateKey({ client, tenantId, onCreated }: { client: ApiClient; tenantId: string; onCreated: () => void }) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>([]);
  const [domains, setDomains] = useState<string[]>([]);
  const [shown, setShown] = useState<{ name: string; key: string } | null>(null);
  const { busy, error, run } = useFormAction();
  const [tenantDomains] = useLoad(
    async () =>
      must(
        await client.GET('/v1/tenants/{tenantId}/domains', { params: { path: { tenantId }, query: { limit: 200 } } }),
      ).items,
    tenantId,
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      const created = must(
        await client.POST('/v1/tenants/{tenantId}/api-keys', {
          params: { path: { tenantId } },
          body: { name: name.trim(), scopes, domains },
        }),
      );
      setShown({ name: created.name, key: created.key });
      setName('');
      setScopes([]);
      setDomains([]);
      onCreated();
    });
  };
  const flip = <T,>(set: (f: (list: T[]) => T[]) => void, value: T, on: boolean) =>
    set((list) => (on ? [...list, value] : list.filter((x) => x !== value)));

  return (
    <form className="card form-grid" onSubmit={(e) => void submit(e)}>
      <h2>{t('flow.keys.new')}</h2>
      {shown && (
        <div className="alert alert-success">
          <p>{t('flow.keys.shown', { name: shown.name })}</p>
          <code className="secret">{shown.key}</code>
        </div>
      )}
      <label className="field">
        <span>{t('flow.keys.name')}</span>
        <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <fieldset className="scope-grid">
        <legend>{t('flow.keys.scopesLegend')}</legend>
        {RESOURCES.map((resource) => (
          <div key={resource} className="scope-row">
            <span>{resource}</span>
            {(['read', 'write'] as const).map((level) => {
              const scope = scopeOf(resource, level);
              return (
                <label key={level} className="check">
                  <input
                    type="checkbox"
                    checked={scopes.includes(scope)}
                    aria-label={scope}
                    onChange={(e) => flip(setScopes, scope, e.target.checked)}
                  />
                  <span aria-hidden="true">{t(`flow.keys.${level}`)}</span>
                </label>
              );
            })}
          </div>
        ))}
      </fieldset>
      <fieldset className="checks">
        <legend>{t('flow.keys.domainsLegend')}</legend>
        {tenantDomains.state === 'ready' && tenantDomains.data.length === 0 && (
          <span className="muted small">{t('domains.empty')}</span>
        )}
        {tenantDomains.state === 'ready' &&
          tenantDomains.data.map((d) => (
            <label key={d.id} className="check">
              <input
                type="checkbox"
                checked={domains.includes(d.name)}
                onChange={(e) => flip(setDomains, d.name, e.target.checked)}
              />
              <span>{d.unicodeName}</span>
            </label>
          ))}
      </fieldset>
      {error !== null && <ErrorBox error={error} />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy || scopes.length === 0}>
          {t('flow.keys.create')}
        </button>
      </div>
    </form>
  );
}
