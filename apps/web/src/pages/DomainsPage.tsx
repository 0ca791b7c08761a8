import { useEffect, useState } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../i18n';
import { must } from '../session';
import { ErrorBox, Loading, PageTitle, useLoad, useStatus } from '../ui';
import { AddDomain, DomainTools, queueCheck } from './domain/DomainTools';

type Domain = ApiSchema<'DomainResponse'>;
type DnsRecord = ApiSchema<'DnsPlanResponse'>['records'][number];

export function DomainsPage({ client, tenantId }: { client: ApiClient; tenantId: string }) {
  const { t, formatDate } = useI18n();
  const [domains, reload] = useLoad(
    async () =>
      must(
        await client.GET('/v1/tenants/{tenantId}/domains', { params: { path: { tenantId }, query: { limit: 200 } } }),
      ).items,
    tenantId,
  );
  const [open, setOpen] = useState<string | null>(null);
  const [status, showStatus] = useStatus();
  const [checking, setChecking] = useState<string | null>(null);
  const [checkError, setCheckError] = useState<{ domainId: string; error: unknown } | null>(null);
  // Bumped when a queued check has been stored, so open records show its results.
  const [round, setRound] = useState(0);

  const checkNow = async (domain: Domain) => {
    setChecking(domain.id);
    setCheckError(null);
    try {
      const { stored } = await queueCheck(client, domain);
      showStatus(t('domains.checkQueued', { domain: domain.unicodeName }));
      void stored.then(() => {
        setRound((n) => n + 1);
        reload();
      });
    } catch (error) {
      setCheckError({ domainId: domain.id, error });
    } finally {
      setChecking(null);
    }
  };

  return (
    <section>
      <PageTitle>{t('domains.title')}</PageTitle>
      <AddDomain
        client={client}
        tenantId={tenantId}
        onAdded={(domain) => {
          showStatus(t('domainTools.added', { domain: domain.unicodeName }));
          setOpen(domain.id);
          reload();
        }}
      />
      {status}
      {domains.state === 'loading' && <Loading />}
      {domains.state === 'error' && <ErrorBox error={domains.error} onRetry={reload} />}
      {domains.state === 'ready' && domains.data.length === 0 && <p className="empty">{t('domains.empty')}</p>}
      {domains.state === 'ready' && domains.data.length > 0 && (
        <ul className="domain-list">
          {domains.data.map((domain) => (
            <li key={domain.id} className="card">
              <div className="domain-head">
                <h2>{domain.unicodeName}</h2>
                <span className={`badge badge-${domain.status}`}>{t(`status.${domain.status}`)}</span>
                <span className="muted small">
                  {t('domains.checked')}: {domain.lastCheckedAt ? formatDate(domain.lastCheckedAt) : t('domains.never')}
                </span>
                <button
                  type="button"
                  className="button domain-check"
                  disabled={checking === domain.id}
                  aria-label={t('domains.checkLabel', { domain: domain.unicodeName })}
                  onClick={() => void checkNow(domain)}
                >
                  {t('domains.check')}
                </button>
                <button
                  type="button"
                  className="button"
                  aria-expanded={open === domain.id}
                  aria-controls={`records-${domain.id}`}
                  aria-label={t('domains.show', { domain: domain.unicodeName })}
                  onClick={() => setOpen((current) => (current === domain.id ? null : domain.id))}
                >
                  {t('domains.records')}
                </button>
              </div>
              {checkError?.domainId === domain.id && <ErrorBox error={checkError.error} />}
              {open === domain.id && <DnsRecords client={client} domain={domain} onStatus={showStatus} round={round} />}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function DnsRecords({
  client,
  domain,
  onStatus,
  round,
}: {
  client: ApiClient;
  domain: Domain;
  onStatus: (text: string) => void;
  round: number;
}) {
  const { t } = useI18n();
  const [plan, reload] = useLoad(
    async () =>
      must(
        await client.GET('/v1/tenants/{tenantId}/domains/{domainId}/dns', {
          params: { path: { tenantId: domain.tenantId, domainId: domain.id } },
        }),
      ),
    domain.id,
  );
  useEffect(() => {
    if (round > 0) reload();
  }, [round, reload]);

  const copy = async (text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      onStatus(t('domains.copied'));
    } catch {
      onStatus(t('domains.copyFailed'));
    }
  };

  return (
    <div id={`records-${domain.id}`} className="records">
      <h3>{t('domains.recordsOf', { domain: domain.unicodeName })}</h3>
      <p className="muted">{t('domains.recordsHint')}</p>
      <DomainTools client={client} domain={domain} onChanged={reload} onStatus={onStatus} />
      {plan.state === 'loading' && <Loading />}
      {plan.state === 'error' && <ErrorBox error={plan.error} onRetry={reload} />}
      {plan.state === 'ready' && (
        <table className="table records-table">
          <thead>
            <tr>
              <th scope="col">{t('domains.type')}</th>
              <th scope="col">{t('domains.host')}</th>
              <th scope="col">{t('domains.value')}</th>
              <th scope="col">{t('domains.recordStatus')}</th>
            </tr>
          </thead>
          <tbody>
            {plan.data.records.map((record) => (
              <Record key={record.key} record={record} onCopy={copy} />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Record({ record, onCopy }: { record: DnsRecord; onCopy: (text: string) => Promise<void> }) {
  const { t } = useI18n();
  const value = recordValue(record);
  return (
    <tr>
      <td data-label={t('domains.type')}>
        <strong>{record.type}</strong>
        <div className="muted small">{record.purpose}</div>
        <div className="muted small">{record.required ? t('domains.required') : t('domains.optional')}</div>
      </td>
      <td data-label={t('domains.host')}>
        <code className="copyable">{record.host}</code>
        <button
          type="button"
          className="button button-small"
          aria-label={t('domains.copyLabel', { what: t('domains.host'), type: record.type, host: record.host })}
          onClick={() => void onCopy(record.host)}
        >
          {t('domains.copy')}
        </button>
      </td>
      <td data-label={t('domains.value')}>
        <code className="copyable record-value">{value}</code>
        <button
          type="button"
          className="button button-small"
          aria-label={t('domains.copyLabel', { what: t('domains.value'), type: record.type, host: record.host })}
          onClick={() => void onCopy(value)}
        >
          {t('domains.copy')}
        </button>
        {record.note && <div className="muted small">{record.note}</div>}
      </td>
      <td data-label={t('domains.recordStatus')}>
        <span className={`badge badge-${record.status}`}>{t(`status.${record.status}`)}</span>
        {record.message && <div className="small">{record.message}</div>}
      </td>
    </tr>
  );
}

/** The value as a DNS panel's single field wants it: MX with its preference, SRV in full. */
function recordValue(record: DnsRecord): string {
  if (record.type === 'SRV' && record.port !== undefined) {
    return `${record.priority ?? 0} ${record.weight ?? 0} ${record.port} ${record.value}`;
  }
  return record.priority === undefined ? record.value : `${record.priority} ${record.value}`;
}
