import { useState, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must, mustSucceed } from '../../session';
import { ErrorBox, Loading, PageTitle, useFormAction, useLoad, useStatus } from '../../ui';
import { ProblemBox } from './parts';
import './mailbox.css';

type Alias = ApiSchema<'AliasResponse'>;
type Domain = ApiSchema<'DomainResponse'>;

const splitList = (text: string) =>
  text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** The tenant's aliases, a catch-all (`*@domain`) among them, each with its destinations. */
export function AliasesPage({ client, tenantId }: { client: ApiClient; tenantId: string }) {
  const { t } = useI18n();
  const [data, reload] = useLoad(async () => {
    const [aliases, domains] = await Promise.all([
      client.GET('/v1/tenants/{tenantId}/aliases', { params: { path: { tenantId }, query: { limit: 200 } } }),
      client.GET('/v1/tenants/{tenantId}/domains', { params: { path: { tenantId }, query: { limit: 200 } } }),
    ]);
    return { aliases: must(aliases).items, domains: must(domains).items };
  }, tenantId);
  const [status, showStatus] = useStatus();
  const { error, setError } = useFormAction();

  const act = async (work: () => Promise<string>) => {
    setError(null);
    try {
      showStatus(await work());
      reload();
    } catch (e) {
      setError(e);
    }
  };
  const toggle = (alias: Alias, enabled: boolean) =>
    act(async () => {
      must(
        await client.PATCH('/v1/tenants/{tenantId}/aliases/{aliasId}', {
          params: { path: { tenantId, aliasId: alias.id } },
          body: { enabled },
        }),
      );
      return t('mailboxes.saved');
    });
  const remove = (alias: Alias) =>
    act(async () => {
      mustSucceed(
        await client.DELETE('/v1/tenants/{tenantId}/aliases/{aliasId}', {
          params: { path: { tenantId, aliasId: alias.id } },
        }),
      );
      return t('aliases.deleted', { address: alias.address });
    });

  return (
    <section>
      <PageTitle>{t('aliases.title')}</PageTitle>
      <p className="muted">{t('aliases.hint')}</p>
      {status}
      {error !== null && <ProblemBox error={error} />}
      {data.state === 'loading' && <Loading />}
      {data.state === 'error' && <ErrorBox error={data.error} onRetry={reload} />}
      {data.state === 'ready' && (
        <>
          <CreateAlias
            client={client}
            tenantId={tenantId}
            domains={data.data.domains}
            onCreated={(address) => {
              showStatus(t('aliases.created', { address }));
              reload();
            }}
          />
          {data.data.aliases.length === 0 ? (
            <p className="empty">{t('aliases.empty')}</p>
          ) : (
            <table className="table aliases">
              <thead>
                <tr>
                  <th scope="col">{t('aliases.source')}</th>
                  <th scope="col">{t('aliases.destinations')}</th>
                  <th scope="col">{t('aliases.state')}</th>
                </tr>
              </thead>
              <tbody>
                {data.data.aliases.map((alias) => (
                  <tr key={alias.id}>
                    <td data-label={t('aliases.source')}>
                      <strong>{alias.address}</strong>
                      {alias.catchAll && <span className="badge badge-pending">{t('aliases.catchAll')}</span>}
                      {alias.description && <div className="muted small">{alias.description}</div>}
                    </td>
                    <td data-label={t('aliases.destinations')}>{alias.destinations.join(', ')}</td>
                    <td data-label={t('aliases.state')}>
                      <label className="check">
                        <input
                          type="checkbox"
                          role="switch"
                          checked={alias.enabled}
                          onChange={(e) => void toggle(alias, e.target.checked)}
                        />
                        <span>{t('aliases.enabledLabel', { address: alias.address })}</span>
                      </label>
                      {!alias.system && (
                        <button
                          type="button"
                          className="button button-small button-danger"
                          aria-label={t('aliases.deleteLabel', { address: alias.address })}
                          onClick={() => void remove(alias)}
                        >
                          {t('aliases.delete')}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}

function CreateAlias({
  client,
  tenantId,
  domains,
  onCreated,
}: {
  client: ApiClient;
  tenantId: string;
  domains: Domain[];
  onCreated: (address: string) => void;
}) {
  const { t } = useI18n();
  const [localPart, setLocalPart] = useState('');
  const [catchAll, setCatchAll] = useState(false);
  const [domainId, setDomainId] = useState(domains[0]?.id ?? '');
  const [destinations, setDestinations] = useState('');
  const { busy, error, run } = useFormAction();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      const created = must(
        await client.POST('/v1/tenants/{tenantId}/aliases', {
          params: { path: { tenantId } },
          body: { localPart: catchAll ? '*' : localPart.trim(), domainId, destinations: splitList(destinations) },
        }),
      );
      setLocalPart('');
      setDestinations('');
      setCatchAll(false);
      onCreated(created.address);
    });
  };

  return (
    <form className="card form-grid" onSubmit={(e) => void submit(e)} aria-labelledby="new-alias-title">
      <h2 id="new-alias-title">{t('aliases.new')}</h2>
      <label className="check form-actions">
        <input type="checkbox" checked={catchAll} onChange={(e) => setCatchAll(e.target.checked)} />
        <span>{t('aliases.catchAllLabel')}</span>
      </label>
      {!catchAll && (
        <label className="field">
          <span>{t('mailboxes.localPart')}</span>
          <input required value={localPart} onChange={(e) => setLocalPart(e.target.value)} />
        </label>
      )}
      <label className="field">
        <span>{t('mailboxes.domain')}</span>
        <select required value={domainId} onChange={(e) => setDomainId(e.target.value)}>
          {domains.map((d) => (
            <option key={d.id} value={d.id}>
              @{d.unicodeName}
            </option>
          ))}
        </select>
      </label>
      <label className="field form-actions">
        <span>{t('aliases.destinationsField')}</span>
        <textarea required rows={2} value={destinations} onChange={(e) => setDestinations(e.target.value)} />
      </label>
      {error !== null && <ProblemBox error={error} />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy || domainId === ''}>
          {t('aliases.create')}
        </button>
      </div>
    </form>
  );
}
